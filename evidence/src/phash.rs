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
/// Memory stays bounded whatever the declared size, so a small file that inflates to hundreds of
/// megabytes (a decompression bomb) costs at most `limits.max_decode_alloc`:
///
/// - JPEG is decoded downscaled by the inverse DCT (1/8, 1/4 or 1/2, the largest reduction that
///   keeps at least [`JPEG_MIN_SIDE`] pixels on one side), so a 120-megapixel photo decodes to
///   under 2 megapixels; a progressive JPEG, which keeps every coefficient of the image until
///   its last scan, is refused when those coefficients alone would exceed the cap;
/// - PNG is decoded row by row into the 9x8 cells, never as a whole image (an interlaced PNG,
///   whose rows arrive out of order, is decoded whole within the cap);
/// - WebP is decoded whole within the cap.
///
/// `Ok(None)` for formats that are not decoded here (HEIF, whose HEVC codec has no maintained
/// pure-Rust decoder); a refusal ([`ReasonCode::EvidenceImageTooLarge`]) for images over the
/// limits and ([`ReasonCode::EvidenceImageUndecodable`]) for images that do not decode.
pub fn perceptual_hash(media_type: MediaType, bytes: &[u8], limits: &ParseLimits) -> Result<Option<PerceptualHash>> {
    match media_type {
        MediaType::Jpeg => jpeg_hash(bytes, limits).map(Some),
        MediaType::Png => png_hash(bytes, limits).map(Some),
        MediaType::Webp => whole_image_hash(ImageFormat::WebP, bytes, limits).map(Some),
        MediaType::Heif | MediaType::Gpx => Ok(None),
    }
}

/// The smallest side a JPEG is decoded to, when it is that large: each of the 9x8 cells still
/// averages hundreds of pixels.
pub const JPEG_MIN_SIDE: u16 = 256;

fn too_large(detail: impl Into<String>) -> Error {
    Error::refused(ReasonCode::EvidenceImageTooLarge, detail)
}

fn undecodable_detail(detail: impl Into<String>) -> Error {
    Error::refused(ReasonCode::EvidenceImageUndecodable, detail)
}

/// Decodes a JPEG downscaled in the inverse DCT and hashes it.
fn jpeg_hash(bytes: &[u8], limits: &ParseLimits) -> Result<PerceptualHash> {
    let frame = jpeg_frame(bytes)?;
    check_dimensions(u32::from(frame.width), u32::from(frame.height), limits)?;
    if frame.progressive && frame.coefficient_bytes() > limits.max_decode_alloc {
        return Err(too_large(format!(
            "a progressive JPEG of {}x{} keeps {} bytes of coefficients, over the decoder limit of {}",
            frame.width,
            frame.height,
            frame.coefficient_bytes(),
            limits.max_decode_alloc
        )));
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_decode_alloc).unwrap_or(usize::MAX));
    let (w, h) = decoder.scale(JPEG_MIN_SIDE, JPEG_MIN_SIDE).map_err(jpeg_error)?;
    let (w, h) = (usize::from(w), usize::from(h));
    if w == 0 || h == 0 {
        return Err(undecodable_detail("JPEG: zero image dimension"));
    }
    let format = decoder.info().map(|i| i.pixel_format);
    let stride = match format {
        Some(jpeg_decoder::PixelFormat::L8) => 1,
        Some(jpeg_decoder::PixelFormat::L16) => 2,
        Some(jpeg_decoder::PixelFormat::RGB24) => 3,
        Some(jpeg_decoder::PixelFormat::CMYK32) => 4,
        None => return Err(undecodable_detail("JPEG: no frame decoded")),
    };
    // The downscaled output and one plane of each component at that size.
    let output = (w * h * stride * 2) as u64;
    if output > limits.max_decode_alloc {
        return Err(too_large(format!(
            "a JPEG decoded to {w}x{h} needs {output} bytes, over the decoder limit of {}",
            limits.max_decode_alloc
        )));
    }
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let mut cells = Cells::new(w, h);
    if pixels.len() < w * h * stride {
        return Err(undecodable_detail("JPEG: fewer pixels than its frame declares"));
    }
    for (y, row) in pixels.chunks_exact(w * stride).take(h).enumerate() {
        match format {
            Some(jpeg_decoder::PixelFormat::L8) => cells.add_row(y, row.iter().map(|&l| u64::from(l) * 1000)),
            Some(jpeg_decoder::PixelFormat::L16) => cells
                .add_row(y, row.chunks_exact(2).map(|p| u64::from(u8_of_u16(u16::from_ne_bytes([p[0], p[1]]))) * 1000)),
            Some(jpeg_decoder::PixelFormat::CMYK32) => cells.add_row(
                y,
                row.chunks_exact(4).map(|p| {
                    let k = 255 - u32::from(p[3]);
                    let ch = |c: u8| ((255 - u32::from(c)) * k / 255) as u8;
                    luma(ch(p[0]), ch(p[1]), ch(p[2]))
                }),
            ),
            _ => cells.add_row(y, row.chunks_exact(3).map(|p| luma(p[0], p[1], p[2]))),
        }
    }
    Ok(cells.hash())
}

fn jpeg_error(e: jpeg_decoder::Error) -> Error {
    match e {
        jpeg_decoder::Error::Unsupported(f) => undecodable_detail(format!("JPEG: unsupported: {f:?}")),
        other => undecodable_detail(format!("JPEG: {other}")),
    }
}

/// What a JPEG's frame header says: size, coding, and each component's sampling factors.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JpegFrame {
    width: u16,
    height: u16,
    progressive: bool,
    /// `(horizontal, vertical)` sampling factor of each component.
    sampling: Vec<(u8, u8)>,
}

impl JpegFrame {
    /// Bytes of DCT coefficients of the whole image (64 of 2 bytes per block of every
    /// component, blocks padded to whole MCUs), which a progressive decoder keeps until the end.
    fn coefficient_bytes(&self) -> u64 {
        let hmax = u64::from(self.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1));
        let vmax = u64::from(self.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1));
        let mcus_x = u64::from(self.width).div_ceil(8 * hmax);
        let mcus_y = u64::from(self.height).div_ceil(8 * vmax);
        self.sampling.iter().map(|&(h, v)| mcus_x * u64::from(h) * mcus_y * u64::from(v) * 128).sum()
    }
}

/// Reads the first frame header of a JPEG whose structure [`crate::extract_metadata`] checked.
fn jpeg_frame(b: &[u8]) -> Result<JpegFrame> {
    let malformed = || undecodable_detail("JPEG: no readable frame header");
    let mut i = 2;
    loop {
        while b.get(i) == Some(&0xff) {
            i += 1;
        }
        let marker = *b.get(i).ok_or_else(malformed)?;
        i += 1;
        if matches!(marker, 0x01 | 0xd0..=0xd7) {
            continue;
        }
        if matches!(marker, 0xd9 | 0xda) {
            return Err(malformed());
        }
        let len =
            usize::from(u16::from_be_bytes([*b.get(i).ok_or_else(malformed)?, *b.get(i + 1).ok_or_else(malformed)?]));
        let segment = b.get(i + 2..i + len).ok_or_else(malformed)?;
        let is_sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            let n = usize::from(*segment.get(5).ok_or_else(malformed)?);
            let comps = segment.get(6..6 + 3 * n).ok_or_else(malformed)?;
            return Ok(JpegFrame {
                height: u16::from_be_bytes([segment[1], segment[2]]),
                width: u16::from_be_bytes([segment[3], segment[4]]),
                progressive: matches!(marker, 0xc2 | 0xc6 | 0xca | 0xce),
                sampling: comps.chunks_exact(3).map(|c| (c[1] >> 4, c[1] & 0x0f)).collect(),
            });
        }
        i += len;
    }
}

/// Hashes a PNG row by row: memory is a few rows, whatever the image size.
fn png_hash(bytes: &[u8], limits: &ParseLimits) -> Result<PerceptualHash> {
    let png_limits = png::Limits { bytes: usize::try_from(limits.max_decode_alloc).unwrap_or(usize::MAX) };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    // The transformation the image crate applies: palettes and low bit depths to 8 bits, 16 bits
    // kept, so the hash is the one of the whole decoded image.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    check_dimensions(w, h, limits)?;
    if info.interlaced {
        return whole_image_hash(ImageFormat::Png, bytes, limits);
    }
    let (color, depth) = reader.output_color_type();
    let channels = color.samples();
    let wide = depth == png::BitDepth::Sixteen;
    let mut cells = Cells::new(w as usize, h as usize);
    let mut y = 0;
    while let Some(row) = reader.next_row().map_err(png_error)? {
        let data = row.data();
        let sample =
            |p: &[u8], c: usize| if wide { u8_of_u16(u16::from_be_bytes([p[2 * c], p[2 * c + 1]])) } else { p[c] };
        let px = channels * if wide { 2 } else { 1 };
        if channels >= 3 {
            cells.add_row(y, data.chunks_exact(px).map(|p| luma(sample(p, 0), sample(p, 1), sample(p, 2))));
        } else {
            cells.add_row(y, data.chunks_exact(px).map(|p| u64::from(sample(p, 0)) * 1000));
        }
        y += 1;
    }
    Ok(cells.hash())
}

fn png_error(e: png::DecodingError) -> Error {
    match e {
        png::DecodingError::LimitsExceeded => too_large("PNG: decoder limit exceeded"),
        other => undecodable_detail(format!("PNG: {other}")),
    }
}

/// `round(c * 255 / 65535)`, the conversion the image crate uses.
fn u8_of_u16(c: u16) -> u8 {
    ((u32::from(c) + 128) / 257) as u8
}

/// Decodes the whole image within the memory cap and hashes it.
fn whole_image_hash(format: ImageFormat, bytes: &[u8], limits: &ParseLimits) -> Result<PerceptualHash> {
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
    Ok(dhash(&img))
}

fn undecodable(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(l) => too_large(format!("decoder limit: {l}")),
        other => undecodable_detail(other.to_string()),
    }
}

const W: usize = 9;
const H: usize = 8;

/// Mean luma (BT.601, x1000) of a 9x8 grid of cells covering the image, each pixel counted in
/// the cell its centre falls in; fed row by row.
struct Cells {
    height: usize,
    col: Vec<usize>,
    sum: [u64; W * H],
    count: [u64; W * H],
}

impl Cells {
    fn new(width: usize, height: usize) -> Self {
        Self {
            height: height.max(1),
            col: (0..width).map(|x| (x * W) / width.max(1)).collect(),
            sum: [0; W * H],
            count: [0; W * H],
        }
    }

    /// Adds row `y`: the luma of each pixel, left to right.
    fn add_row(&mut self, y: usize, lumas: impl Iterator<Item = u64>) {
        let cy = ((y * H) / self.height).min(H - 1);
        for (x, l) in lumas.enumerate() {
            let Some(&cx) = self.col.get(x) else { break };
            let c = cy * W + cx;
            self.sum[c] += l;
            self.count[c] += 1;
        }
    }

    /// The dHash: one bit per horizontally adjacent pair of cells, set where the left is
    /// brighter.
    fn hash(&self) -> PerceptualHash {
        let mean = |c: usize| self.sum[c].checked_div(self.count[c]).unwrap_or(0);
        let mut bits = 0u64;
        for y in 0..H {
            for x in 0..W - 1 {
                bits = (bits << 1) | u64::from(mean(y * W + x) > mean(y * W + x + 1));
            }
        }
        PerceptualHash(bits)
    }
}

/// dHash of an already decoded image.
pub fn dhash(img: &DynamicImage) -> PerceptualHash {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut cells = Cells::new(w, h);
    match img {
        DynamicImage::ImageRgb8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w * 3).enumerate() {
                cells.add_row(y, row.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])));
            }
        }
        DynamicImage::ImageRgba8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w * 4).enumerate() {
                cells.add_row(y, row.chunks_exact(4).map(|p| luma(p[0], p[1], p[2])));
            }
        }
        DynamicImage::ImageLuma8(buf) => {
            for (y, row) in buf.as_raw().chunks_exact(w).enumerate() {
                cells.add_row(y, row.iter().map(|&l| u64::from(l) * 1000));
            }
        }
        other => {
            let buf = other.to_rgb8();
            for (y, row) in buf.as_raw().chunks_exact(w * 3).enumerate() {
                cells.add_row(y, row.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])));
            }
        }
    }
    cells.hash()
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
