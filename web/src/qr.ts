// QR codes as one SVG path of dark modules (no canvas, no inline style: the page's CSP allows
// neither), from `qrcode-generator`.
import qrcode from 'qrcode-generator';

/** The most bytes put in one code: version 40 at level L holds 2,953; a phone camera reads far
 * fewer reliably, so longer values are offered as a download instead. */
export const MAX_QR_BYTES = 2_000;

export interface QrPath {
  /** Modules per side, without the quiet zone. */
  size: number;
  /** The SVG path of the dark modules, in module units offset by the 4-module quiet zone. */
  d: string;
}

/** The code for `text` (UTF-8), or null when it is longer than [`MAX_QR_BYTES`]. */
export function qrPath(text: string): QrPath | null {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0 || bytes.length > MAX_QR_BYTES) return null;
  const q = qrcode(0, 'L');
  // Byte mode over the UTF-8 bytes, passed one char per byte.
  q.addData(String.fromCharCode(...bytes), 'Byte');
  q.make();
  const size = q.getModuleCount();
  let d = '';
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (q.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    }
  }
  return { size, d };
}
