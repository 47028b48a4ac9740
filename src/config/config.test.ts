import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

/** No file: only what env says. */
const load = (env: NodeJS.ProcessEnv) => loadConfig({ STREAMGATE_CONFIG: "", ...env });

describe("the replicas setting", () => {
  it("is unset by default, and read from STREAMGATE_REPLICAS", () => {
    expect(load({}).replicas).toBeUndefined();
    expect(load({ STREAMGATE_REPLICAS: "3" }).replicas).toBe(3);
  });

  it.each(["0", "6", "2.5", "three"])("refuses STREAMGATE_REPLICAS=%s with the range", (value) => {
    expect(() => load({ STREAMGATE_REPLICAS: value })).toThrow(ConfigError);
    expect(() => load({ STREAMGATE_REPLICAS: value })).toThrow("invalid configuration: replicas: must be a whole number of replicas from 1 to 5");
  });

  it("refuses the variable it replaced, naming it among the known ones", () => {
    expect(() => load({ STREAMGATE_STATE_REPLICAS: "3" })).toThrow(/unknown environment variable STREAMGATE_STATE_REPLICAS .*STREAMGATE_REPLICAS/);
  });
});
