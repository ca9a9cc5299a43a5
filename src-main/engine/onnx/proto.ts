/**
 * The part of ONNX's protobuf schema that ModeLab writes, and its encoder (protobufjs).
 *
 * Field names and numbers are those of onnx/onnx.proto upstream (github.com/onnx/onnx, onnx/onnx.proto, IR version 7
 * and later: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
 * TensorShapeProto, OperatorSetIdProto). Only the fields the graph builder sets are declared; protobuf ignores the
 * absence of the others, so a model written with this subset is a valid ONNX model. The schema is kept here as text
 * (not a .proto file read at run time) so the bundled app and the CLI find it alike.
 */
import protobuf from 'protobufjs';

const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; FLOATS = 6; INTS = 7; }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType values (onnx.proto). */
export const ONNX_DTYPE = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxElemType = keyof typeof ONNX_DTYPE;

/** AttributeProto.AttributeType values used here. */
export const ONNX_ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

let modelType: protobuf.Type | null = null;

function model(): protobuf.Type {
  if (!modelType) modelType = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a ModelProto given as a plain object with the schema's (snake_case) field names. */
export function encodeModelProto(obj: Record<string, unknown>): Uint8Array {
  const t = model();
  const err = t.verify(obj);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return t.encode(t.fromObject(obj)).finish();
}

/** Decodes bytes written by encodeModelProto (tests and debugging). */
export function decodeModelProto(bytes: Uint8Array): Record<string, unknown> {
  const t = model();
  return t.toObject(t.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
