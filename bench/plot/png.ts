/**
 * SVG → PNG for the figures, with @resvg/resvg-js (Rust's resvg; its binary ships inside the npm
 * package for each platform, no browser). Text uses the system's fonts (DejaVu Sans on Debian:
 * the fonts-dejavu-core package).
 */
import { writeFileSync } from 'node:fs';

/** Renders SVG text to PNG bytes at `scale` × the SVG's size. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeFigure(base: string, svg: string): Promise<{ svg: string; png: string }> {
  writeFileSync(`${base}.svg`, svg);
  writeFileSync(`${base}.png`, await svgToPng(svg));
  return { svg: `${base}.svg`, png: `${base}.png` };
}
