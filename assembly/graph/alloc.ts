// The runtime's own bump allocator for everything a model needs (model bytes, arena, tables,
// packed weights). It grows memory by exactly the pages needed, so a full memory is a status
// (RUNTIME_OUT_OF_MEMORY), never a trap, and unload() returns the whole region at once.
// The stub runtime's heap is used once, at first use, to claim where the region starts
// (anything allocated at module start stays below it); nothing else may call heap.alloc.

let regionStart: usize = 0;
let top: usize = 0;
let loadStart: usize = 0;

function claimRegion(): void {
  if (regionStart == 0) {
    regionStart = (heap.alloc(16) + 31) & ~(<usize>15);
    top = regionStart;
  }
}

/** Returns a zeroed, 16-aligned block, or 0 when the memory limit would be exceeded. */
export function rtAlloc(bytes: usize): usize {
  claimRegion();
  if (bytes > 0x40000000) return 0;
  const p = (top + 15) & ~(<usize>15);
  const end = p + bytes;
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >>> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  top = end;
  memory.fill(p, 0, bytes);
  return p;
}

/** The current top, for rtRelease: load-time scratch taken after it can be given back at once. */
export function rtMark(): usize {
  claimRegion();
  return top;
}

/** Gives back everything allocated since rtMark returned `mark` (the caller keeps none of it). */
export function rtRelease(mark: usize): void {
  if (mark >= regionStart && mark <= top) top = mark;
}

export function markLoadStart(): void {
  claimRegion();
  loadStart = top;
}

/** Bytes allocated since markLoadStart (tables, arena, packed weights). */
export function bytesSinceLoadStart(): usize {
  return top - loadStart;
}

export function heapTop(): usize {
  return top;
}

/** Forgets every model allocation: the next model starts from an empty region. */
export function resetHeap(): void {
  claimRegion();
  top = regionStart;
  loadStart = top;
}

/**
 * Permanent memory below the model region (the device protocol's buffers, claimed by
 * device_init), so hosts that only run inference do not pay for it. Only while no model is
 * loaded; returns 0 otherwise or when the memory limit would be exceeded.
 */
export function rtReserve(bytes: usize): usize {
  claimRegion();
  if (top != regionStart) return 0;
  const p = rtAlloc(bytes);
  if (p == 0) return 0;
  regionStart = (top + 15) & ~(<usize>15);
  top = regionStart;
  loadStart = top;
  return p;
}
