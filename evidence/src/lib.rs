//! Proof-of-reality evidence of jejak: type sniffing, EXIF/GPX metadata, rules with reason codes, witness signatures, evidence leaves.
