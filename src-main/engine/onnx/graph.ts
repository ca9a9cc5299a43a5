/**
 * A small builder for ONNX graphs: named inputs and outputs with fixed shapes, constant initializers, and nodes whose
 * outputs get fresh names. `serialize()` writes the ModelProto (proto.ts) that onnxruntime loads.
 */
import { ONNX_ATTR_TYPE, ONNX_DTYPE, type OnnxElemType, encodeModelProto } from './proto';

/** The ONNX operator set the graphs are written against (every operator used here is in opset 17). */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const int = (value: number): Attr => ({ kind: 'int', value });
export const ints = (value: number[]): Attr => ({ kind: 'ints', value });
export const float = (value: number): Attr => ({ kind: 'float', value });
export const str = (value: string): Attr => ({ kind: 'string', value });

interface ValueInfo {
  name: string;
  type: OnnxElemType;
  dims: number[];
}

function attrProto(name: string, a: Attr): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name, type: ONNX_ATTR_TYPE.int, i: a.value };
    case 'ints':
      return { name, type: ONNX_ATTR_TYPE.ints, ints: a.value };
    case 'float':
      return { name, type: ONNX_ATTR_TYPE.float, f: a.value };
    case 'floats':
      return { name, type: ONNX_ATTR_TYPE.floats, floats: a.value };
    case 'string':
      return { name, type: ONNX_ATTR_TYPE.string, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(v: ValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: { tensor_type: { elem_type: ONNX_DTYPE[v.type], shape: { dim: v.dims.map((d) => ({ dim_value: d })) } } },
  };
}

function littleEndianBytes(a: Float32Array | BigInt64Array): Uint8Array {
  // Typed arrays are in the platform's byte order; ONNX raw_data is little-endian (every platform ONNX Runtime ships
  // a Node binding for is little-endian).
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly name: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name '${name}' is used twice`);
    this.names.add(name);
    return name;
  }

  private fresh(op: string): string {
    return this.claim(`_${op.toLowerCase()}${this.counter++}`);
  }

  /** A graph input with a fixed shape. */
  input(name: string, type: OnnxElemType, dims: number[]): string {
    this.inputs.push({ name: this.claim(name), type, dims });
    return name;
  }

  /** Makes `value` a graph output called `name` (through an Identity node, so any value can be exposed). */
  output(name: string, value: string, type: OnnxElemType, dims: number[]): void {
    this.nodes.push({ op_type: 'Identity', input: [value], output: [this.claim(name)] });
    this.outputs.push({ name, type, dims });
  }

  /** A float32 constant. */
  floats(values: ArrayLike<number>, dims: number[]): string {
    const name = this.fresh('const');
    this.initializers.push({ name, data_type: ONNX_DTYPE.float, dims, raw_data: littleEndianBytes(Float32Array.from(values)) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.floats([value], []);
  }

  /** An int64 constant (shapes, axes, indices); a 1-D tensor unless dims say otherwise. */
  int64s(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const');
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, data_type: ONNX_DTYPE.int64, dims, raw_data: littleEndianBytes(data) });
    return name;
  }

  /** A node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0]!;
  }

  /** A node with n outputs; returns their names. An empty input name is an omitted optional input. */
  opN(opType: string, inputs: string[], n: number, attrs: Record<string, Attr> = {}): string[] {
    const outs = Array.from({ length: n }, () => this.fresh(opType));
    this.nodes.push({
      op_type: opType,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, a]) => attrProto(k, a)),
    });
    return outs;
  }

  /** The ModelProto bytes. */
  serialize(): Uint8Array {
    return encodeModelProto({
      ir_version: IR_VERSION,
      producer_name: 'modelab',
      opset_import: [{ domain: '', version: ONNX_OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
  }
}
