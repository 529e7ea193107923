// The last step of a group scan, shared by the looped scan (hamming.ts) and the unrolled ones
// (unrolledGroups.ts): which of the group's 128 lanes have a distance below the limit.

// One bit of the comparison d < limit.
@inline function lessStep(notBelow: v128, d: v128, limitBit: u32): v128 {
  return limitBit ? v128.and(notBelow, d) : v128.or(notBelow, d);
}

// The low distance planes, for laneDistance (s3..s6 are already in the spill).
@inline function spillPlanes(
  spill: usize, ones: v128, twos: v128, fours: v128, eights: v128, s0: v128, s1: v128, s2: v128,
): void {
  v128.store(spill, ones, 0);
  v128.store(spill, twos, 16);
  v128.store(spill, fours, 32);
  v128.store(spill, eights, 48);
  v128.store(spill, s0, 64);
  v128.store(spill, s1, 80);
  v128.store(spill, s2, 96);
}

/**
 * Lanes whose distance, given as its bit planes (least significant first: ones, twos, fours,
 * eights, then the sBits planes of the sixteens count, s3 and up already at spill + 64 + 16 * i),
 * is below `limit`. When some lane is below, the planes are left at `spill` for laneDistance.
 */
@inline export function compareLimit(
  ones: v128, twos: v128, fours: v128, eights: v128, s0: v128, s1: v128, s2: v128,
  sBits: u32, limit: u32, spill: usize,
): v128 {
  if (limit >= <u32>1 << (4 + sBits)) {
    spillPlanes(spill, ones, twos, fours, eights, s0, s1, s2);
    return i32x4.splat(-1);
  }
  // d < limit, bit-serially from the least significant bit: `notBelow` is the complement of the
  // borrow of d - limit, which needs one op per bit.
  let notBelow = i32x4.splat(-1);
  notBelow = lessStep(notBelow, ones, limit & 1);
  notBelow = lessStep(notBelow, twos, (limit >> 1) & 1);
  notBelow = lessStep(notBelow, fours, (limit >> 2) & 1);
  notBelow = lessStep(notBelow, eights, (limit >> 3) & 1);
  if (sBits > 0) notBelow = lessStep(notBelow, s0, (limit >> 4) & 1);
  if (sBits > 1) notBelow = lessStep(notBelow, s1, (limit >> 5) & 1);
  if (sBits > 2) notBelow = lessStep(notBelow, s2, (limit >> 6) & 1);
  for (let i: u32 = 3; i < sBits; i++) {
    notBelow = lessStep(notBelow, v128.load(spill + 64 + (<usize>i << 4)), (limit >> (4 + i)) & 1);
  }
  const below = v128.not(notBelow);
  if (v128.any_true(below)) spillPlanes(spill, ones, twos, fours, eights, s0, s1, s2);
  return below;
}
