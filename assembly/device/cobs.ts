// COBS decoding and encoding between two buffers of linear memory (host/format/serial-frame.ts
// is the TypeScript twin). Decoding never reads or writes past the given lengths.

/** Decodes src[0, n) into dst; returns the decoded length, or -1 for an invalid encoding. */
export function cobsDecode(src: usize, n: u32, dst: usize): i32 {
  let i: u32 = 0, o: u32 = 0;
  while (i < n) {
    const code = <u32>load<u8>(src + i++);
    if (code == 0 || i + code - 1 > n) return -1;
    for (let k: u32 = 1; k < code; k++) {
      const b = load<u8>(src + i++);
      if (b == 0) return -1;
      store<u8>(dst + o++, b);
    }
    if (code != 0xff && i < n) store<u8>(dst + o++, 0);
  }
  return <i32>o;
}

/** Encodes src[0, n) into dst (room for n + n/254 + 1 bytes); returns the encoded length. */
export function cobsEncode(src: usize, n: u32, dst: usize): u32 {
  let codeAt: u32 = 0, o: u32 = 1, code: u32 = 1;
  for (let i: u32 = 0; i < n; i++) {
    const b = load<u8>(src + i);
    if (b == 0) {
      store<u8>(dst + codeAt, <u8>code);
      codeAt = o++;
      code = 1;
      continue;
    }
    store<u8>(dst + o++, b);
    if (++code == 0xff) {
      store<u8>(dst + codeAt, <u8>code);
      codeAt = o++;
      code = 1;
    }
  }
  store<u8>(dst + codeAt, <u8>code);
  return o;
}
