// The module edge/ui/build.ts generates (edge/ui/dist/uiScripts.js, gitignored): the bundled widget
// and demo scripts as strings. Declared here so type checks pass before the first build.
declare module '*/uiScripts.js' {
  export const widgetScript: string;
  export const demoScript: string;
}
