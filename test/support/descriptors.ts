/** Schemas made in a test: the well-known types' files to import, and field descriptors. */
import { createFileRegistry, type FileRegistry } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";

export { Label, Type };

export const WELL_KNOWN_FILES = [
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
];

/** The names of WELL_KNOWN_FILES, for a file's `dependency`. */
export const WELL_KNOWN_IMPORTS = WELL_KNOWN_FILES.map((f) => f.proto.name);

/** A field, its JSON name derived from its name as protoc derives it. */
export const field = (name: string, number: number, type: Type, typeName = "", label = Label.OPTIONAL) => ({
  name,
  number,
  type,
  typeName,
  label,
  jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
});

/** A field holding a message (`typeName` fully qualified, with its leading dot). */
export const messageField = (name: string, number: number, typeName: string, label = Label.OPTIONAL) => field(name, number, Type.MESSAGE, typeName, label);

/** A registry of the file, with the well-known types it imports. */
export function withWellKnownTypes(file: FileDescriptorProto): FileRegistry {
  return createFileRegistry(file, (name) => WELL_KNOWN_FILES.find((f) => f.proto.name === name));
}
