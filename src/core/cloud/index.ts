/** The Meross account service client (docs/protocol.md §10). */
export { fetchCloudAccount, type CloudAccount, type CloudSignIn } from "./account";
export type { CloudDevice, CloudSubDevice } from "./devices";
export { checkServiceUrl, CLOUD_TIMEOUT_MS, CLOUD_MAX_REPLY_BYTES } from "./http";
export { API_STATUS, CLOUD_APP_SECRET, CLOUD_PATHS, DEFAULT_CLOUD_API, signForm } from "./wire";
