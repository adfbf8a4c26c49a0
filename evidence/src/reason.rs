//! Stable reason codes: the vocabulary the API, the CLI and platforms share.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// A stable, machine-readable reason code.
        ///
        /// `EVIDENCE_*` codes refuse a file, `POR_*` codes name what a proof-of-reality rule looks
        /// for (the rule's outcome says whether it was found), `RECEIPT_*` codes say why a receipt
        /// does not verify, `CHECKPOINT_*` codes why a published log head does not check. Codes are never renamed or reused once shipped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum ReasonCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl ReasonCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The code as it appears on the wire, e.g. `POR_CAPTURE_OUTSIDE_WINDOW`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ReasonCode::$variant => $code,)* }
            }
        }
    };
}

reason_codes! {
    /// The upload holds no bytes.
    EvidenceEmpty = "EVIDENCE_EMPTY",
    /// The bytes are none of JPEG, HEIF/HEIC, PNG, WebP or GPX.
    EvidenceTypeUnsupported = "EVIDENCE_TYPE_UNSUPPORTED",
    /// The bytes are an archive or a compressed stream (zip, gzip...): never unpacked.
    EvidenceCompressedUnsupported = "EVIDENCE_COMPRESSED_UNSUPPORTED",
    /// The upload exceeds the size limit of its kind (HTTP 413).
    EvidenceTooLarge = "EVIDENCE_TOO_LARGE",
    /// The file ends before its structure does (a cut-off upload).
    EvidenceTruncated = "EVIDENCE_TRUNCATED",
    /// The container structure is invalid.
    EvidenceMalformed = "EVIDENCE_MALFORMED",
    /// The image declares dimensions beyond the configured limits.
    EvidenceImageTooLarge = "EVIDENCE_IMAGE_TOO_LARGE",
    /// The image data cannot be decoded.
    EvidenceImageUndecodable = "EVIDENCE_IMAGE_UNDECODABLE",
    /// The XML carries a document type declaration (entities are never expanded).
    EvidenceXmlDoctype = "EVIDENCE_XML_DOCTYPE",
    /// The XML nests deeper than the configured limit.
    EvidenceXmlTooDeep = "EVIDENCE_XML_TOO_DEEP",
    /// The XML is not well formed or uses an undeclared entity.
    EvidenceXmlMalformed = "EVIDENCE_XML_MALFORMED",
    /// The XML document is not GPX.
    EvidenceNotGpx = "EVIDENCE_NOT_GPX",
    /// The track holds more points than the configured limit.
    EvidenceTrackTooManyPoints = "EVIDENCE_TRACK_TOO_MANY_POINTS",
    /// A track point has a missing or out-of-range coordinate, elevation or time.
    EvidenceTrackBadPoint = "EVIDENCE_TRACK_BAD_POINT",
    /// The extracted metadata cannot be put in canonical form.
    EvidenceMetadataInvalid = "EVIDENCE_METADATA_INVALID",

    /// The submission holds no evidence file.
    PorNoEvidence = "POR_NO_EVIDENCE",
    /// A photo carries no usable capture time (neither zoned EXIF time nor GPS time).
    PorCaptureTimeMissing = "POR_CAPTURE_TIME_MISSING",
    /// A photo was taken, or a track recorded, outside the task window.
    PorCaptureOutsideWindow = "POR_CAPTURE_OUTSIDE_WINDOW",
    /// EXIF capture time and GPS time disagree, or one is missing.
    PorExifGpsTimeSkew = "POR_EXIF_GPS_TIME_SKEW",
    /// A photo carries no GPS position.
    PorLocationMissing = "POR_LOCATION_MISSING",
    /// A photo was taken farther from the task location than the radius and its accuracy allow.
    PorLocationTooFar = "POR_LOCATION_TOO_FAR",
    /// The task type expects a GPS track and none (or an empty one) was submitted.
    PorTrackMissing = "POR_TRACK_MISSING",
    /// Track point times are missing or go backwards.
    PorTrackTimesInvalid = "POR_TRACK_TIMES_INVALID",
    /// Consecutive positions imply an impossible speed.
    PorTrackTeleport = "POR_TRACK_TELEPORT",
    /// The track spends less time in the task area than the task type requires.
    PorDwellTooShort = "POR_DWELL_TOO_SHORT",
    /// The same file (SHA-256) was already submitted on another task.
    PorDuplicateFile = "POR_DUPLICATE_FILE",
    /// The photo is a perceptual near-duplicate of a photo from another task.
    PorPerceptualDuplicate = "POR_PERCEPTUAL_DUPLICATE",
    /// No perceptual hash could be computed for the photo (e.g. HEIF is not decoded).
    PorPerceptualHashUnavailable = "POR_PERCEPTUAL_HASH_UNAVAILABLE",
    /// The metadata names photo or track editing software.
    PorEditingSoftware = "POR_EDITING_SOFTWARE",
    /// The server issued no capture nonce for the task.
    PorNonceNotIssued = "POR_NONCE_NOT_ISSUED",
    /// A file carries no capture nonce.
    PorNonceMissing = "POR_NONCE_MISSING",
    /// A file carries a nonce other than the one issued for the task.
    PorNonceMismatch = "POR_NONCE_MISMATCH",
    /// A witness signature does not verify strictly over the canonical message.
    PorWitnessBadSignature = "POR_WITNESS_BAD_SIGNATURE",
    /// The witness key is the worker's own key.
    PorWitnessIsWorker = "POR_WITNESS_IS_WORKER",
    /// The witness key was not registered before the task window opened.
    PorWitnessUnregistered = "POR_WITNESS_UNREGISTERED",
    /// The witness signed at a time outside the task window.
    PorWitnessTimeOutsideWindow = "POR_WITNESS_TIME_OUTSIDE_WINDOW",
    /// Fewer distinct valid witnesses than the task type's quorum.
    PorWitnessQuorum = "POR_WITNESS_QUORUM",

    /// The receipt has a format version this code does not know.
    ReceiptVersionUnsupported = "RECEIPT_VERSION_UNSUPPORTED",
    /// The file's SHA-256 is not the one in the receipt.
    ReceiptFileMismatch = "RECEIPT_FILE_MISMATCH",
    /// The metadata does not hash to the receipt's metadata hash.
    ReceiptMetadataMismatch = "RECEIPT_METADATA_MISMATCH",
    /// The inclusion path does not lead from the leaf to the receipt's root at its size.
    ReceiptInclusionInvalid = "RECEIPT_INCLUSION_INVALID",
    /// The anchor read from the chain differs from the receipt (root, size, chain, contract,
    /// transaction or block).
    ReceiptAnchorMismatch = "RECEIPT_ANCHOR_MISMATCH",

    /// An evidence checkpoint document is malformed or its consistency proof does not lead from
    /// the previous head to the new one.
    CheckpointInvalid = "CHECKPOINT_INVALID",
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_matches_as_str_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ReasonCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), *code);
            assert!(seen.insert(code.as_str()), "duplicate {code}");
        }
    }
}
