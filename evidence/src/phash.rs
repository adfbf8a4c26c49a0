//! Perceptual hashes of photos: a 64-bit difference hash (dHash) of the decoded image averaged
//! down to 9x8 luma cells. Re-encoding, recompression, resizing and metadata stripping move few
//! bits; a different scene moves about half.

use std::fmt;
use std::io::Cursor;
use std::str::FromStr;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::metadata::check_dimensions;
use crate::{Error, MediaType, ParseLimits, ReasonCode, Result};

/// A 64-bit perceptual hash; serialised as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PerceptualHash(pub u64);

impl PerceptualHash {
    /// Number of differing bits (0..=64).
    pub fn distance(self, other: PerceptualHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

impl fmt::Display for PerceptualHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for PerceptualHash {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(PerceptualHash)
    }
}

impl From<PerceptualHash> for String {
    fn from(h: PerceptualHash) -> String {
        h.to_string()
    }
}

impl TryFrom<String> for PerceptualHash {
    type Error = std::num::ParseIntError;
    fn try_from(s: String) -> std::result::Result<Self, Self::Error> {
        s.parse()
    }
}

/// Decodes the photo within `limits` and returns its dHash.
///
/// `Ok(None)` for formats that are not decoded here (HEIF, whose HEVC codec has no maintained
/// pure-Rust decoder); a refusal for images that are too large or do not decode.
pub fn perceptual_hash(media_type: MediaType, bytes: &[u8], limits: &ParseLimits) -> Result<Option<PerceptualHash>> {
    let format = match media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        MediaType::Heif | MediaType::Gpx => return Ok(None),
    };
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_decode_alloc);

    let reader = |l: Limits| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        r.limits(l);
        r
    };
    let (w, h) = reader(decoder_limits.clone()).into_dimensions().map_err(undecodable)?;
    check_dimensions(w, h, limits)?;
    let img = reader(decoder_limits).decode().map_err(undecodable)?;
    Ok(Some(dhash(&img)))
}

fn undecodable(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(l) => {
            Error::refused(ReasonCode::EvidenceImageTooLarge, format!("decoder limit: {l}"))
        }
        other => Error::refused(ReasonCode::EvidenceImageUndecodable, other.to_string()),
    }
}

/// dHash of an already decoded image.
pub fn dhash(img: &DynamicImage) -> PerceptualHash {
    const W: usize = 9;
    const H: usize = 8;
    let cells = area_average_luma::<W, H>(img);
    let mut bits = 0u64;
    for y in 0..H {
        for x in 0..W - 1 {
            bits = (bits << 1) | u64::from(cells[y * W + x] > cells[y * W + x + 1]);
        }
    }
    PerceptualHash(bits)
}

/// Mean luma (BT.601, x1000) of a `W`x`H` grid of cells covering the image, each pixel
/// counted in the cell its centre falls in.
fn area_average_luma<const W: usize, const H: usize>(img: &DynamicImage) -> Vec<u64> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut sum = vec![0u64; W * H];
    let mut count = vec![0u64; W * H];
    let col: Vec<usize> = (0..w).map(|x| (x * W) / w.max(1)).collect();
    let mut add_row = |y: usize, lumas: &mut dyn Iterator<Item = u64>| {
        let cy = (y * H) / h.max(1);
        for (x, l) in lumas.enumerate() {
            let c = cy * W + col[x];
            sum[c] += l;
            count[c] += 1;
        }
    };
    match img {
        DynamicImage::ImageRgb8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w * 3).enumerate() {
                add_row(y, &mut row.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])));
            }
        }
        DynamicImage::ImageRgba8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w * 4).enumerate() {
                add_row(y, &mut row.chunks_exact(4).map(|p| luma(p[0], p[1], p[2])));
            }
        }
        DynamicImage::ImageLuma8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w).enumerate() {
                add_row(y, &mut row.iter().map(|&l| u64::from(l) * 1000));
            }
        }
        other => {
            let buf = other.to_rgb8();
            for (y, row) in buf.as_raw().chunks_exact(w * 3).enumerate() {
                add_row(y, &mut row.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])));
            }
        }
    }
    sum.iter().zip(&count).map(|(s, c)| if *c == 0 { 0 } else { s / c }).collect()
}

fn luma(r: u8, g: u8, b: u8) -> u64 {
    299 * u64::from(r) + 587 * u64::from(g) + 114 * u64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_distance() {
        let a = PerceptualHash(0x0123_4567_89ab_cdef);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"0123456789abcdef\"");
        assert_eq!(serde_json::from_str::<PerceptualHash>(&json).unwrap(), a);
        assert_eq!(a.distance(PerceptualHash(a.0 ^ 0b1011)), 3);
    }

    #[test]
    fn gradient_hash_is_stable_under_scaling() {
        let make = |w: u32, h: u32| {
            DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
                let v = ((x * 255 / w) ^ (y * 255 / h)) as u8;
                image::Rgb([v, v / 2, 255 - v])
            }))
        };
        let a = dhash(&make(900, 800));
        let b = dhash(&make(450, 400));
        assert!(a.distance(b) <= 4, "distance {}", a.distance(b));
    }
}
