// Package psk is the Pre-Shared Key transport protocol, version 1.0, as the
// ilp client library 11.2 (July 2017) implemented it: the form ILP Kit 3.0
// senders and receivers spoke, which differs from the text of RFC 0016 in
// places. Where they differ the 2017 code wins, because that is what peers
// ran. PROTOCOLS.md 7.4 and 7.5 summarise the format.
//
// # Keys
//
// A receiver holds a secret of any length. From it come an 8-byte receiver
// id, HMAC-SHA256(secret, "ilp_psk_receiver_id")[0:8], and, for each random
// 16-byte token, a 16-byte shared secret,
// HMAC-SHA256(HMAC-SHA256(secret, "ilp_psk_generation"), token)[0:16]. The
// receiver gives a sender (through SPSP) the shared secret and the address
// account + "." + b64url(receiver id) + b64url(token); the receiver then
// recovers the token from the address, so it stores nothing per sender. The
// fulfillment of a payment is HMAC-SHA256(HMAC-SHA256(shared secret,
// "ilp_psk_condition"), ILP packet bytes), and its condition the SHA-256 of
// that. The data is encrypted under HMAC-SHA256(shared secret,
// "ilp_key_encryption") (the RFC text says "ilp_psk_encryption"; the code
// used this label). All HMAC labels are UTF-8 text.
//
// # Details
//
// The PSK details travel as the data of the IlpPayment packet:
//
//	PSK/1.0\n
//	Nonce: <b64url of 16 random bytes>\n
//	Encryption: aes-256-gcm <b64url of the 16-byte tag>   (or "none")
//	[\n<extra public header>: <value> ...]
//	\n\n
//	<body>
//
// The body is the private part, private headers joined by "\n", then
// "\n\n", then the application data; with aes-256-gcm it is encrypted with
// the nonce as a 16-byte GCM IV, no additional data and no padding. Headers
// are written in the order given (Nonce and Encryption first; Expires-At
// first among the private ones when the sender sets an expiry), which is why
// Headers is a list and not a map.
//
// Parsing follows ilp@11 and the parse-headers package it used: the details
// split at the first "\n\n"; the first line must match ^PSK/1\.\d+$; the
// header block is trimmed as a whole, split on "\n", and each line split at
// its first ':' into a name (trimmed, lower-cased) and a value (trimmed);
// "trimmed" is JavaScript's trim, which removes Unicode spaces and line
// terminators including '\r'. A line with no ':' gives the whole trimmed line
// as its value and the line minus its last character, trimmed, as its name.
// A header block made only of whitespace gives one header with an empty name
// and value; an empty one gives none. Repeated names are all kept, in order.
// Invalid UTF-8 in a header block becomes U+FFFD, as Node's toString did
// (Node replaced per invalid sequence; runs of invalid bytes become one
// U+FFFD here). The receiver then refuses details that carry a non-empty Key
// header, lack a non-empty Nonce, name an encryption other than one starting
// with "aes-256-gcm" or exactly "none", or give no tag of 22 base64url
// characters after the first space of the Encryption value; base64 inside
// the details and the address is read as Node's Buffer read it (foreign
// characters skipped, '=' ends the text).
//
// Where a header repeats, 2017 got a JavaScript array and behaved by
// accident; Receive reproduces the outcome where it is a refusal: a repeated
// Key is refused, a repeated Nonce fails decryption (and is harmless with
// Encryption: none), a repeated Encryption is refused. A repeated
// Expires-At was ignored in 2017; here every one of its values must still
// be in the future.
//
// # Receiving
//
// Receiver.Receive applies the checks of ilp@11.2's listen in the order it
// made them, and returns the fulfillment and the details, ErrNotMine for a
// payment addressed to another receiver (2017 ignored those and left them
// to other listeners), or a *Rejection with the ILP error to send back. The
// codes are those of RFC 0003 (F00, F01, F03, F04, F05, F06, R00); each
// Rejection also names the legacy code ilp@11.2 sent in its place (S00, S01,
// S03, S04, S05, S06, R01), and package ilp's NormalizeCode maps those back
// when they arrive from a 2017 peer.
package psk
