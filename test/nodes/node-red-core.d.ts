/** Node-RED's own switch and change nodes, loaded by node specs that wire a real flow around a Meross node. */
declare module "@node-red/nodes/core/function/10-switch.js" {
  const register: (RED: unknown) => void;
  export = register;
}
declare module "@node-red/nodes/core/function/15-change.js" {
  const register: (RED: unknown) => void;
  export = register;
}
