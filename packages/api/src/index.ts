/**
 * @berth/api: Berth's gRPC contracts. Everything under gen/ is generated from protos/ by
 * `npm run gen`; import a package's messages and services from its own entry point, e.g.
 * `@berth/api/berth/version/v1`, so a binary bundles only the packages it uses.
 */
export { unixAddress } from './unix-address.js';
