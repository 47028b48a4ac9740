/**
 * Reading GET /metrics in tests: a parser of the Prometheus text format (version 0.0.4), strict
 * enough that a malformed exposition fails the test that reads it.
 */
import { send } from "./http.js";

export type Labels = Record<string, string>;

export interface Sample {
  /** The sample's own name: a histogram's are <family>_bucket, _sum and _count. */
  name: string;
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

export interface HistogramSeries {
  count: number;
  sum: number;
  /** Cumulative counts by upper bound, "+Inf" last. */
  buckets: Map<string, number>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<Family["type"], readonly string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

export class Exposition {
  private constructor(readonly families: ReadonlyMap<string, Family>) {}

  static parse(text: string): Exposition {
    const families = new Map<string, Family>();
    let current: Family | undefined;
    text.split("\n").forEach((line, i) => {
      const where = `line ${i + 1} ${JSON.stringify(line)}`;
      if (line === "") return;
      if (line.startsWith("#")) {
        const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (!meta) return;
        const [, kind, name, rest] = meta as unknown as [string, "HELP" | "TYPE", string, string];
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
        let family = families.get(name);
        if (!family) families.set(name, (family = { name, type: "untyped", help: "", samples: [] }));
        else if (family !== current) throw new Error(`${where}: ${name} was declared before, apart from here`);
        if (kind === "HELP") family.help = rest.replaceAll("\\n", "\n").replaceAll("\\\\", "\\");
        else if (TYPES.has(rest)) family.type = rest as Family["type"];
        else throw new Error(`${where}: unknown type`);
        current = family;
        return;
      }
      const sample = parseSample(line, where);
      const family = current && SUFFIXES[current.type].some((suffix) => sample.name === current!.name + suffix) ? current : undefined;
      if (!family) throw new Error(`${where}: a sample outside its family (${current?.name ?? "none declared"})`);
      family.samples.push(sample);
    });
    return new Exposition(families);
  }

  /** The family of that name; throws when there is none. */
  family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric ${name} in /metrics; there are ${[...this.families.keys()].join(", ")}`);
    return family;
  }

  /** The samples of a family (or of one of its suffixes) whose labels include `labels`. */
  samples(name: string, labels: Labels = {}, suffix = ""): Sample[] {
    return this.family(name).samples.filter((s) => s.name === name + suffix && includes(s.labels, labels));
  }

  /** The one sample with exactly these labels; throws when there is none: a missing series is a failure, not a 0. */
  value(name: string, labels: Labels = {}): number {
    const found = this.family(name).samples.find((s) => s.name === name && sameLabels(s.labels, labels));
    if (!found) throw new Error(`no series ${name}${JSON.stringify(labels)} in /metrics; it has ${describe(this.family(name))}`);
    return found.value;
  }

  /** One label set of a histogram, checked to be one: buckets cumulative, +Inf equal to the count. */
  histogram(name: string, labels: Labels): HistogramSeries {
    const family = this.family(name);
    if (family.type !== "histogram") throw new Error(`${name} is a ${family.type}, not a histogram`);
    const buckets = new Map<string, number>();
    for (const { name: sampleName, labels: sampleLabels, value } of family.samples) {
      const { le, ...rest } = sampleLabels;
      if (sampleName === `${name}_bucket` && le !== undefined && sameLabels(rest, labels)) buckets.set(le, value);
    }
    const count = this.#histogramPart(family, "_count", labels);
    const sum = this.#histogramPart(family, "_sum", labels);
    const bounds = [...buckets.keys()];
    if (bounds.at(-1) !== "+Inf" || buckets.get("+Inf") !== count) throw new Error(`${name}${JSON.stringify(labels)}: +Inf bucket is not the count ${count}`);
    const values = [...buckets.values()];
    if (values.some((v, i) => i > 0 && v < values[i - 1]!)) throw new Error(`${name}${JSON.stringify(labels)}: buckets are not cumulative`);
    if (bounds.slice(0, -1).some((b, i) => i > 0 && Number(b) <= Number(bounds[i - 1]))) throw new Error(`${name}: bounds out of order`);
    return { count, sum, buckets };
  }

  #histogramPart(family: Family, suffix: "_sum" | "_count", labels: Labels): number {
    const found = family.samples.find((s) => s.name === family.name + suffix && sameLabels(s.labels, labels));
    if (!found) throw new Error(`no series ${family.name}${suffix}${JSON.stringify(labels)} in /metrics; it has ${describe(family)}`);
    return found.value;
  }
}

/** `name{a="b",c="d"} value [timestamp]`, label values with \\, \" and \n escaped. */
function parseSample(line: string, where: string): Sample {
  let i = 0;
  while (i < line.length && line[i] !== "{" && line[i] !== " ") i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`${where}: bad sample name`);
  const labels: Labels = {};
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const eq = line.indexOf("=", i);
      const labelName = line.slice(i, eq);
      if (eq < 0 || !LABEL_NAME.test(labelName) || line[eq + 1] !== '"') throw new Error(`${where}: bad label at ${i}`);
      let value = "";
      for (i = eq + 2; line[i] !== '"'; i++) {
        if (i >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[i] !== "\\") value += line[i];
        else {
          const escaped = line[++i];
          if (escaped === "n") value += "\n";
          else if (escaped === "\\" || escaped === '"') value += escaped;
          else throw new Error(`${where}: bad escape \\${escaped}`);
        }
      }
      if (labelName in labels) throw new Error(`${where}: label ${labelName} twice`);
      labels[labelName] = value;
      i++;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new Error(`${where}: expected , or } at ${i}`);
    }
    i++;
  }
  const [raw, timestamp, ...extra] = line.slice(i).trim().split(/ +/);
  if (line[i] !== " " || raw === undefined || extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) {
    throw new Error(`${where}: expected one value and at most a timestamp after the labels`);
  }
  const value = /^[+-]?Inf$/.test(raw) ? Number(raw.replace("Inf", "Infinity")) : /^nan$/i.test(raw) ? NaN : Number(raw);
  if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`${where}: ${JSON.stringify(raw)} is not a number`);
  return { name, labels, value };
}

function includes(labels: Labels, wanted: Labels): boolean {
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

function sameLabels(a: Labels, b: Labels): boolean {
  return Object.keys(a).length === Object.keys(b).length && includes(a, b);
}

function describe(family: Family): string {
  const shown = family.samples.slice(0, 20).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  return shown.length ? shown.join("; ") : "no samples";
}

/**
 * The value of one series written as the exposition writes it, e.g.
 * `streamgate_open_connections{protocol="poll"}`. Throws when there is no such series.
 */
export function seriesValue(exposition: string, series: string): number {
  const { name, labels } = parseSample(`${series} 0`, `series ${series}`);
  return Exposition.parse(exposition).value(name, labels);
}

/** GET /metrics, which must answer 200 in the text format. */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const res = await send(baseUrl, { path: "/metrics" });
  if (res.status !== 200 || !res.headers.get("content-type")?.startsWith("text/plain")) {
    throw new Error(`GET /metrics -> ${res.status} ${res.headers.get("content-type")}: ${res.text.slice(0, 300)}`);
  }
  return res.text;
}

/** GET /metrics, parsed. */
export async function scrape(baseUrl: string): Promise<Exposition> {
  return Exposition.parse(await scrapeMetrics(baseUrl));
}
