/**
 * Where each point's text label goes on a chart without covering another label or a point: for
 * each point in turn, the first of a few spots around it (right, left, above, below, then the
 * diagonals, then the same further out) that stays inside the plot and clear of what is placed.
 * A label with no free spot is left out (the point's tooltip and the list still name it).
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** a point on the canvas (pixels), its marker's radius, and its label's size */
export interface LabelledPoint {
  px: number;
  py: number;
  /** the marker's radius: a label keeps clear of every marker */
  r: number;
  w: number;
  h: number;
}

/** a label's box, and whether a leader line joins it to its point (placed further out) */
export interface PlacedLabel extends Box {
  leader: boolean;
}

const GAP = 3;

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function inside(a: Box, area: Box): boolean {
  return (
    a.x >= area.x && a.y >= area.y && a.x + a.w <= area.x + area.w && a.y + a.h <= area.y + area.h
  );
}

/** spots around a point, nearest first: its label's top-left corner */
function spots(p: LabelledPoint, far: number): Array<{ x: number; y: number }> {
  const d = p.r + GAP + far;
  const midY = p.py - p.h / 2;
  const midX = p.px - p.w / 2;
  return [
    { x: p.px + d, y: midY },
    { x: p.px - d - p.w, y: midY },
    { x: midX, y: p.py - d - p.h },
    { x: midX, y: p.py + d },
    { x: p.px + d * 0.7, y: p.py - d * 0.7 - p.h },
    { x: p.px + d * 0.7, y: p.py + d * 0.7 },
    { x: p.px - d * 0.7 - p.w, y: p.py - d * 0.7 - p.h },
    { x: p.px - d * 0.7 - p.w, y: p.py + d * 0.7 },
  ];
}

/**
 * One label per point, in the points' order (null: no free spot); `obstacles` are other marks a
 * label must not cover (a ring drawn around a point, unlabelled).
 */
export function placeLabels(
  points: readonly LabelledPoint[],
  area: Box,
  obstacles: readonly Box[] = [],
): Array<PlacedLabel | null> {
  const markers: Box[] = [
    ...points.map((p) => ({ x: p.px - p.r, y: p.py - p.r, w: 2 * p.r, h: 2 * p.r })),
    ...obstacles,
  ];
  const placed: Box[] = [];
  return points.map((p) => {
    for (const far of [0, 14, 30]) {
      for (const spot of spots(p, far)) {
        const box = { ...spot, w: p.w, h: p.h };
        if (!inside(box, area)) continue;
        if (placed.some((b) => overlaps(box, b)) || markers.some((m) => overlaps(box, m))) continue;
        placed.push(box);
        return { ...box, leader: far > 0 };
      }
    }
    return null;
  });
}
