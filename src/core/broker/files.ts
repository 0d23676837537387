/**
 * Writing the broker's files (certificates, keys, mosquitto.conf, logins) without following a
 * symbolic link someone planted in the output folder: the text goes to a new file created
 * exclusively (O_EXCL fails on any existing name, link or not), which is then renamed over the
 * target; rename replaces a link itself, never the file it points to.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export function writeFileReplacing(file: string, text: string, mode: number, owner?: { uid: number; gid: number }): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode, flag: "wx" });
    // The umask may have narrowed the mode; chmod makes it exact.
    fs.chmodSync(tmp, mode);
    if (owner) fs.chownSync(tmp, owner.uid, owner.gid);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
