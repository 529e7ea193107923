// The part of autocannon's API the edge benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface Result {
    requests: { total: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  interface Options {
    url: string;
    connections: number;
    duration: number;
    requests: {
      setupRequest: (request: Record<string, unknown>) => Record<string, unknown>;
      onResponse?: (status: number, body: string) => void;
    }[];
  }
  interface Instance extends PromiseLike<Result> {
    on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
    on(event: 'reqError', listener: (error: Error) => void): void;
  }
  export default function autocannon(options: Options): Instance;
}
