// Tells protobufjs to read int64 as JS numbers instead of Long objects. See pb.ts.
import $protobuf from 'protobufjs/minimal.js'

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long
$protobuf.configure()
