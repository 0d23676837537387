/** The cloud-free MQTT side: certificates, the embedded broker and the cloud responder (Bind, Clock). */
export * from "./certs";
export * from "./broker";
export * from "./cloud-responder";
