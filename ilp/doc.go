// Package ilp owns the Interledger v1 wire formats that ILP Kit 3.0 spoke in
// mid-2017: the ILP packet envelope and its eight packet types (IlpPayment,
// the six binary ILQP messages and InterledgerProtocolError), the OER
// primitives they are built from, ILP addresses, the base64 text forms that
// carry packets and conditions in JSON, the ILP error code table, and
// PREIMAGE-SHA-256 conditions and fulfillments in their LPI, DER and URI forms.
//
// Wire fidelity comes first. The decoders accept every packet that the 2017
// JavaScript library ilp-packet 1.3.0 (on oer-utils 1.3) accepted, and a
// decoded packet encodes back to the same bytes: whatever the fields cannot
// say (unusual extension bytes, a padded count, a timestamp that JavaScript
// rolled over) is kept in the packet's Wire field. The codecs do not judge
// field values; the checks 2017 did not make at this level are separate
// functions for the layers above: ValidateAddress, ValidatePrefix and
// NormalizeCode here, curve shape in package curve.
//
// Decoding refuses what 2017 refused and what cannot be read safely:
// truncated input, non-canonical or over-long length determinants, empty or
// over-long VarUInts, counts larger than the bytes that follow and malformed
// timestamps. Every such refusal is a *DecodeError naming the field and its
// byte offset, and no decoder allocates more than its input can hold.
//
// The package uses the standard library only and keeps no package-level
// mutable state.
package ilp
