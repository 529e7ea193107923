// Conv2D that lets tfjs skip input gradients nothing needs.
//
// tfjs-layers runs every conv through tf.fused.conv2d, whose gradient is a customGrad that computes
// the input gradient eagerly: for a network's first conv that is a full backward convolution for
// the gradient of the image, which no optimizer reads (21 ms of a 450 ms cnnHash step on wasm;
// bench/engine/throughput.ts --profile, Conv2DBackpropInput 128x32x32x32). In training this layer
// calls tf.conv2d, whose gradient is lazy per input, so the tape prunes it; inference keeps the
// fused kernel. Same class name, config and weights as the stock layer.
import * as tf from '@tensorflow/tfjs';
import { type Kwargs, type LayerArgs, singleInput, stockLayerClass } from './layers.js';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type StockConv2DLayer = ReturnType<typeof tf.layers.conv2d>;

const StockConv2D = stockLayerClass<Conv2DArgs, StockConv2DLayer>('Conv2D');

/** The fields of the stock layer this one reads (protected in its typings). */
interface Conv2DState {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  useBias: boolean;
  strides: [number, number];
  padding: 'valid' | 'same';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | [number, number];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

export class Conv2D extends StockConv2D {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as Conv2DState;
    const dilated = [state.dilationRate].flat().some((d) => d !== 1);
    if (!kwargs.training || state.dataFormat !== 'channelsLast' || dilated) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = singleInput(inputs) as tf.Tensor4D;
      let y: tf.Tensor = tf.conv2d(x, state.kernel.read() as tf.Tensor4D, state.strides, state.padding);
      if (state.useBias && state.bias !== null) y = tf.add(y, state.bias.read());
      return state.activation.apply(y);
    });
  }
}

export function conv2d(args: LayerArgs & Conv2DArgs): Conv2D {
  return new Conv2D(args);
}
