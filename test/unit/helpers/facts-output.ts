// The files part of the facts script's output (see factsScript): the present paths and a GNU tar
// archive of them, base64 on one line, as a host would print it.

export interface FakeFile {
  path: string;
  mode: number;
  content: string;
  owner?: string;
  group?: string;
}

export function factsFileSections(files: readonly FakeFile[]): string[] {
  return ['@@duet present', ...files.map((f) => f.path), '@@duet archive', tarArchive(files).toString('base64')];
}

function tarArchive(files: readonly FakeFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const name = file.path.replace(/^\/+/, '');
    if (Buffer.byteLength(name) > 100) throw new Error(`test helper: name longer than 100 bytes: ${name}`);
    const content = Buffer.from(file.content);
    const header = Buffer.alloc(512);
    const put = (text: string, at: number) => header.write(text, at, 'utf8');
    put(name, 0);
    put(`${file.mode.toString(8).padStart(7, '0')}\0`, 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
    put('00000000000\0', 136);
    put('0', 156);
    put('ustar  \0', 257);
    put(file.owner ?? 'root', 265);
    put(file.group ?? 'root', 297);
    header.fill(' ', 148, 156);
    const sum = header.reduce((acc, byte) => acc + byte, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
