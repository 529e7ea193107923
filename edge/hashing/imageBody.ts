// The query image from a POST body: raw bytes (image/jpeg, image/png, application/octet-stream) or a
// multipart form with an `image` file (the first file otherwise). Size is checked from Content-Length
// and again while streaming, so an oversize body is refused without buffering it.
import { ApiError } from '../errors.js';

const RAW_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'application/octet-stream']);
const MULTIPART = 'multipart/form-data';

const tooLarge = (maxBytes: number) => new ApiError('body_too_large', `the body exceeds ${maxBytes} bytes`);

async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

async function fileFromForm(bytes: Uint8Array, contentType: string): Promise<Uint8Array> {
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': contentType },
    }).formData();
  } catch {
    throw new ApiError('invalid_image', 'the multipart body could not be parsed');
  }
  const files: File[] = [];
  form.forEach((value) => {
    if (value instanceof File) files.push(value);
  });
  const named = form.get('image');
  const file = named instanceof File ? named : files[0];
  if (!file) throw new ApiError('empty_body', 'the multipart body has no file; send it as the field `image`');
  return new Uint8Array(await file.arrayBuffer());
}

export async function readImageBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const contentType = request.headers.get('content-type') ?? 'application/octet-stream';
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType !== MULTIPART && !RAW_TYPES.has(mediaType)) {
    throw new ApiError(
      'unsupported_media_type',
      `content type ${mediaType} is not accepted; send image/jpeg, image/png, application/octet-stream or ${MULTIPART}`,
    );
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = request.body ? await readCapped(request.body, maxBytes) : new Uint8Array(0);
  const empty = () => new ApiError('empty_body', 'the request has no image; send its bytes as the body');
  if (bytes.length === 0) throw empty();
  const image = mediaType === MULTIPART ? await fileFromForm(bytes, contentType) : bytes;
  if (image.length === 0) throw empty();
  return image;
}
