// Browser side of the pixels test: the widget's decode + resize, exposed to page.evaluate.
import { modelPixels } from '../../../edge/ui/widget/pixels.js';

Object.assign(globalThis, { modelPixels });
