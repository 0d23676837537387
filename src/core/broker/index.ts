/** The cloud-free MQTT side: certificates, the embedded broker and the device session. */
export * from "./certs";
export * from "./broker";
export * from "./session";
