// Browser side of the pixels test: the widget's decode + resize, and its upload preparation, exposed
// to page.evaluate.
import { modelPixels, uploadable } from '../../../edge/ui/widget/pixels.js';

Object.assign(globalThis, { modelPixels, uploadable });
