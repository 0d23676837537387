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
  SimChannelState,
  SimLightState,
  LightChange,
  SimElectricityReading,
  SimDeviceState,
  DeviceSnapshot,
  MqttState,
  MqttStateEvent,
  BindAckEvent,
  ClockEvent,
  DroppedEvent,
  EcdheEvent,
} from "./device";
export { deviceClientId, deviceMqttPassword } from "./mqttlink";
export { Fleet, type FleetOptions, type FleetSnapshot } from "./fleet";
export { MODELS, listModels, type DeviceModel, type DeviceModelEntry } from "./models";
export type { Capability, CapabilitySpec, SimContext } from "./capabilities/types";
export { DEMO_ACCOUNT, DEMO_FLEET, demoCloudAccount, startDemo } from "./demo";
export { SimulatedCloud, type SimCloudAccount, type SimCloudDevice } from "./cloud";
export { encryptWifiXPassword, decryptWifiXPassword, deriveIdentity, MEROSS_OUI } from "./identity";
