// A user's OP module, in the user's project (not in dflow-ts's repository).
import { OP, z } from "dflow-ts";

export const Square = OP.function({ name: "Square", inputs: { i: z.number().int() }, outputs: { x: z.number().int() } }, ({ i }) => ({ x: (i as number) * (i as number) }));
