// Charts drawn as inline SVG, no library: a time axis, a nice y scale,
// bars and lines. The SVG is redrawn at the container's real width (so
// text keeps its size on a phone) whenever the data or the width changes.

import { h, s } from './dom.js';

// The y axis has 4 steps of a round size (1, 2 or 5 × 10ⁿ; whole numbers
// for counts) that reach the highest value.
function niceStep(raw, integer) {
  if (!(raw > 0)) return integer ? 1 : 0.25;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = 10 * p;
  for (const m of [1, 2, 5, 10]) {
    if (raw <= m * p) { step = m * p; break; }
  }
  return integer ? Math.max(1, Math.round(step)) : step;
}

/**
 * chart({ label, height, yFormat, xFormat }) → { el, update(data) }
 * data: { x: [Date…], xFormat?, series: [{ name, values: [number | null…], kind: 'bar' | 'line', cls }] }
 * Bars of later series are drawn over earlier ones (errors over requests);
 * a line has a gap where its value is null (no data for that span).
 * integer: the values are counts, so the y axis has whole numbers.
 */
export function chart({ label, height = 200, yFormat = String, xFormat = (d) => d.toLocaleTimeString(), testid, integer = false } = {}) {
  const box = h('div', { class: 'chart-box' });
  const legend = h('ul', { class: 'chart-legend' });
  const el = h('figure', { class: 'chart', 'data-testid': testid }, box, legend);
  let data = { x: [], series: [] };
  let lastWidth = 0;

  function draw() {
    const width = Math.max(260, Math.floor(box.clientWidth || 600));
    lastWidth = width;
    const pad = { l: 48, r: 10, t: 10, b: 26 };
    const W = width - pad.l - pad.r;
    const H = height - pad.t - pad.b;
    const n = data.x.length;
    let max = 0;
    for (const sr of data.series) for (const v of sr.values) if (v > max) max = v;
    const top = 4 * niceStep(max / 4, integer);
    const y = (v) => pad.t + H - (Math.max(0, v) / top) * H;
    const slot = n > 0 ? W / n : W;
    const xc = (i) => pad.l + slot * i + slot / 2;
    const xf = data.xFormat || xFormat;

    const svg = s('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': summary(), class: 'chart-svg',
    });
    // Grid and y labels.
    for (let k = 0; k <= 4; k += 1) {
      const v = (top * k) / 4;
      const yy = y(v);
      svg.append(
        s('line', { x1: pad.l, x2: pad.l + W, y1: yy, y2: yy, class: k === 0 ? 'axis' : 'grid' }),
        s('text', { x: pad.l - 6, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, yFormat(v)),
      );
    }
    // X labels: about one per 90 px.
    if (n > 0) {
      const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(W / 90))));
      for (let i = 0; i < n; i += every) {
        svg.append(s('text', { x: xc(i), y: height - 8, 'text-anchor': 'middle', class: 'tick' }, xf(data.x[i])));
      }
    }
    for (const sr of data.series) {
      if (sr.kind === 'bar') {
        const bw = Math.max(1, slot * 0.7);
        const g = s('g', { class: `series ${sr.cls || ''}` });
        sr.values.forEach((v, i) => {
          if (!v) return;
          const r = s('rect', { x: xc(i) - bw / 2, y: y(v), width: bw, height: Math.max(1, pad.t + H - y(v)) });
          r.append(s('title', {}, `${xf(data.x[i])}: ${yFormat(v)} ${sr.name}`));
          g.append(r);
        });
        svg.append(g);
      } else {
        // Runs of values between nulls; a lone value is a dot.
        let run = [];
        const flush = () => {
          if (run.length > 1) {
            svg.append(s('polyline', { points: run.map(([xx, yy]) => `${xx.toFixed(1)},${yy.toFixed(1)}`).join(' '), class: `series line ${sr.cls || ''}`, fill: 'none' }));
          }
          if (run.length === 1) svg.append(s('circle', { cx: run[0][0], cy: run[0][1], r: 2.5, class: `series dot ${sr.cls || ''}` }));
          run = [];
        };
        sr.values.forEach((v, i) => {
          if (v === null || v === undefined) flush();
          else run.push([xc(i), y(v)]);
        });
        flush();
      }
    }
    if (n === 0) {
      svg.append(s('text', { x: pad.l + W / 2, y: pad.t + H / 2, 'text-anchor': 'middle', class: 'tick' }, 'No data yet'));
    }
    box.replaceChildren(svg);
    legend.replaceChildren(...data.series.map((sr) => h('li', {},
      h('span', { class: `swatch ${sr.cls || ''}`, 'aria-hidden': 'true' }), sr.name)));
  }

  function summary() {
    const parts = data.series.map((sr) => {
      const vals = sr.values.filter((v) => v !== null && v !== undefined);
      const last = vals.length ? vals[vals.length - 1] : 0;
      const max = vals.length ? Math.max(...vals) : 0;
      return `${sr.name}: latest ${yFormat(last)}, highest ${yFormat(max)}`;
    });
    return `${label}. ${parts.join('; ')}`;
  }

  const ro = new ResizeObserver(() => {
    if (Math.floor(box.clientWidth) !== lastWidth) draw();
  });
  ro.observe(box);

  return {
    el,
    update(next) {
      data = next;
      draw();
    },
    destroy() { ro.disconnect(); },
  };
}
