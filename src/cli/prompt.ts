/**
 * Asking a person at a terminal: a line of text, or a secret typed without echo. Prompts go
 * to stderr so stdout stays the command's JSON. Without a terminal there is no prompt (the
 * command then says which flag or variable to use).
 */
import type { CliIo } from "./io";

/** Longest answer kept (a password or a code; anything longer is cut). */
const ANSWER_MAX = 1024;

export function terminalPrompt(stdin: NodeJS.ReadStream, out: { write(text: string): unknown }): NonNullable<CliIo["prompt"]> {
  return (question, hidden) =>
    new Promise((resolve) => {
      if (!stdin.isTTY) {
        resolve(undefined);
        return;
      }
      out.write(question);
      let text = "";
      const finish = (value: string | undefined): void => {
        stdin.off("data", onData);
        stdin.setRawMode(false);
        stdin.pause();
        out.write("\n");
        resolve(value);
      };
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === "\r" || ch === "\n") return finish(text);
          if (ch === "\u0003" || ch === "\u0004") return finish(undefined); // Ctrl-C, Ctrl-D
          if (ch === "\u007f" || ch === "\b") {
            if (text && !hidden) out.write("\b \b");
            text = text.slice(0, -1);
          } else if (ch >= " " && text.length < ANSWER_MAX) {
            text += ch;
            if (!hidden) out.write(ch);
          }
        }
      };
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on("data", onData);
    });
}
