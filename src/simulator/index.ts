/** Public entry of the simulator: devices, the fleet with its status page, and the catalogue. */
export { SimulatedDevice } from "./device";
export type {
  SimulatorOptions,
  SimulatorQuirks,
  Fault,
  WifiNetwork,
  WifiConfigEvent,
  RebootEvent,
  RequestEvent,
  ReplyEvent,
  Gateway,
  ChannelState,
  LightState,
  LightChange,
  ElectricityReading,
  DeviceState,
  DeviceSnapshot,
  MqttState,
  MqttStateEvent,
  BindAckEvent,
  ClockEvent,
} from "./device";
export { deviceClientId, deviceMqttPassword } from "./mqttlink";
export { Fleet, type FleetOptions, type FleetSnapshot } from "./fleet";
export { MODELS, listModels, type DeviceModel } from "./models";
export { DEMO_FLEET, startDemo } from "./demo";
export { encryptWifiXPassword, decryptWifiXPassword, deriveIdentity, MEROSS_OUI } from "./identity";
