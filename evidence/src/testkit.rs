//! Generators of evidence files for tests: photos with EXIF (JPEG, PNG, WebP) and GPX tracks.
//! Enabled by the `test-utils` feature; not for production use.

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{ImageEncoder as _, RgbImage};
use time::{OffsetDateTime, UtcOffset};

use crate::{GeoPoint, NONCE_PREFIX};

/// A GPS fix to write into a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct GpsSpec {
    /// Position.
    pub at: GeoPoint,
    /// Altitude in metres (negative: below sea level).
    pub altitude_m: f64,
    /// GPSHPositioningError in metres.
    pub accuracy_m: Option<f64>,
    /// GPSDateStamp + GPSTimeStamp.
    pub time: Option<OffsetDateTime>,
}

/// What a generated photo looks like and what its EXIF says.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoSpec {
    /// Selects the scene: different seeds give unrelated images.
    pub seed: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Capture instant and the camera's UTC offset (DateTimeOriginal + OffsetTimeOriginal).
    pub captured: Option<(OffsetDateTime, UtcOffset)>,
    /// Whether to write OffsetTimeOriginal.
    pub write_offset: bool,
    /// GPS fix.
    pub gps: Option<GpsSpec>,
    /// EXIF Make.
    pub make: Option<String>,
    /// EXIF Model.
    pub model: Option<String>,
    /// EXIF Software.
    pub software: Option<String>,
    /// Nonce written as `jejak-nonce:<nonce>` in ImageDescription.
    pub nonce: Option<String>,
}

impl PhotoSpec {
    /// A phone photo taken at `at` (local offset +07:00) at `place`, GPS time equal to the
    /// capture time, 5 m accuracy, carrying `nonce`.
    pub fn honest(seed: u64, at: OffsetDateTime, place: GeoPoint, nonce: Option<&str>) -> Self {
        Self {
            seed,
            width: 320,
            height: 240,
            captured: Some((at, UtcOffset::from_hms(7, 0, 0).expect("valid offset"))),
            write_offset: true,
            gps: Some(GpsSpec { at: place, altitude_m: 8.0, accuracy_m: Some(5.0), time: Some(at) }),
            make: Some("Google".into()),
            model: Some("Pixel 8".into()),
            software: Some("HDR+ 1.0.641377693zd".into()),
            nonce: nonce.map(String::from),
        }
    }

    /// The EXIF as a TIFF structure (what follows `Exif\0\0` in a JPEG APP1 segment).
    pub fn exif_tiff(&self) -> Vec<u8> {
        let mut fields = Vec::new();
        let ascii =
            |tag: Tag, s: &str| Field { tag, ifd_num: In::PRIMARY, value: Value::Ascii(vec![s.as_bytes().to_vec()]) };
        let rat = |tag: Tag, v: &[f64]| Field {
            tag,
            ifd_num: In::PRIMARY,
            value: Value::Rational(v.iter().map(|x| to_rational(*x)).collect()),
        };
        if let Some(m) = &self.make {
            fields.push(ascii(Tag::Make, m));
        }
        if let Some(m) = &self.model {
            fields.push(ascii(Tag::Model, m));
        }
        if let Some(s) = &self.software {
            fields.push(ascii(Tag::Software, s));
        }
        if let Some(n) = &self.nonce {
            fields.push(ascii(Tag::ImageDescription, &format!("{NONCE_PREFIX}{n}")));
        }
        if let Some((at, offset)) = self.captured {
            let local = at.to_offset(offset);
            fields.push(ascii(
                Tag::DateTimeOriginal,
                &format!(
                    "{:04}:{:02}:{:02} {:02}:{:02}:{:02}",
                    local.year(),
                    local.month() as u8,
                    local.day(),
                    local.hour(),
                    local.minute(),
                    local.second()
                ),
            ));
            fields.push(ascii(Tag::SubSecTimeOriginal, &format!("{:03}", local.millisecond())));
            if self.write_offset {
                let (h, m, _) = offset.as_hms();
                let sign = if offset.is_negative() { '-' } else { '+' };
                fields.push(ascii(Tag::OffsetTimeOriginal, &format!("{sign}{:02}:{:02}", h.abs(), m.abs())));
            }
        }
        if let Some(g) = &self.gps {
            fields.push(ascii(Tag::GPSLatitudeRef, if g.at.lat < 0.0 { "S" } else { "N" }));
            fields.push(rat(Tag::GPSLatitude, &dms(g.at.lat.abs())));
            fields.push(ascii(Tag::GPSLongitudeRef, if g.at.lon < 0.0 { "W" } else { "E" }));
            fields.push(rat(Tag::GPSLongitude, &dms(g.at.lon.abs())));
            fields.push(Field {
                tag: Tag::GPSAltitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Byte(vec![u8::from(g.altitude_m < 0.0)]),
            });
            fields.push(rat(Tag::GPSAltitude, &[g.altitude_m.abs()]));
            if let Some(acc) = g.accuracy_m {
                fields.push(rat(Tag::GPSHPositioningError, &[acc]));
            }
            if let Some(t) = g.time {
                let t = t.to_offset(UtcOffset::UTC);
                fields
                    .push(rat(Tag::GPSTimeStamp, &[f64::from(t.hour()), f64::from(t.minute()), f64::from(t.second())]));
                fields
                    .push(ascii(Tag::GPSDateStamp, &format!("{:04}:{:02}:{:02}", t.year(), t.month() as u8, t.day())));
            }
        }
        if fields.is_empty() {
            fields.push(ascii(Tag::Orientation, "1"));
        }
        let mut w = Writer::new();
        for f in &fields {
            w.push_field(f);
        }
        let mut out = Cursor::new(Vec::new());
        w.write(&mut out, false).expect("EXIF writer");
        out.into_inner()
    }

    /// The scene encoded as JPEG (quality 90) with the EXIF in an APP1 segment.
    pub fn jpeg(&self) -> Vec<u8> {
        insert_jpeg_exif(&encode_jpeg(&scene(self.seed, self.width, self.height), 90), &self.exif_tiff())
    }

    /// The scene encoded as PNG with the EXIF in an `eXIf` chunk.
    pub fn png(&self) -> Vec<u8> {
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(
                scene(self.seed, self.width, self.height).as_raw(),
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            )
            .expect("PNG encoder");
        // IHDR is the 25 bytes after the 8-byte signature.
        let mut out = png[..33].to_vec();
        out.extend_from_slice(&png_chunk(b"eXIf", &self.exif_tiff()));
        out.extend_from_slice(&png[33..]);
        out
    }

    /// The scene encoded as lossless WebP with the EXIF in an `EXIF` chunk (extended format).
    pub fn webp(&self) -> Vec<u8> {
        let mut simple = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
            .write_image(
                scene(self.seed, self.width, self.height).as_raw(),
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            )
            .expect("WebP encoder");
        let image_chunks = &simple[12..];
        let mut vp8x = vec![0x08, 0, 0, 0];
        vp8x.extend_from_slice(&(self.width - 1).to_le_bytes()[..3]);
        vp8x.extend_from_slice(&(self.height - 1).to_le_bytes()[..3]);
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(&riff_chunk(b"VP8X", &vp8x));
        body.extend_from_slice(image_chunks);
        body.extend_from_slice(&riff_chunk(b"EXIF", &self.exif_tiff()));
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// A minimal HEIF file holding only the EXIF item (no coded image: nothing here decodes
    /// HEVC), laid out as phones write it: `ftyp`, `meta` (`hdlr`, `iinf`, `iloc`), `mdat`.
    pub fn heif(&self) -> Vec<u8> {
        let mut item = 6u32.to_be_bytes().to_vec();
        item.extend_from_slice(b"Exif\0\0");
        item.extend_from_slice(&self.exif_tiff());
        let ftyp = bmff_box(b"ftyp", &[&b"heic"[..], &[0; 4], b"mif1heic"].concat());
        let hdlr = full_box(b"hdlr", 0, &[&[0u8; 4][..], b"pict", &[0; 12], b"\0"].concat());
        let infe = full_box(b"infe", 2, &[&1u16.to_be_bytes()[..], &[0, 0], b"Exif", b"\0"].concat());
        let iinf = full_box(b"iinf", 0, &[&1u16.to_be_bytes()[..], &infe].concat());
        let iloc_len = 12 + 2 + 2 + 2 + 2 + 2 + 4 + 4;
        let meta_len = 12 + hdlr.len() + iinf.len() + iloc_len;
        let item_offset = (ftyp.len() + meta_len + 8) as u32;
        let iloc = full_box(
            b"iloc",
            0,
            &[
                &0x4400u16.to_be_bytes()[..],
                &1u16.to_be_bytes(),
                &1u16.to_be_bytes(),
                &0u16.to_be_bytes(),
                &1u16.to_be_bytes(),
                &item_offset.to_be_bytes(),
                &(item.len() as u32).to_be_bytes(),
            ]
            .concat(),
        );
        let meta = full_box(b"meta", 0, &[hdlr, iinf, iloc].concat());
        assert_eq!(meta.len(), meta_len);
        [ftyp, meta, bmff_box(b"mdat", &item)].concat()
    }
}

fn bmff_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&((body.len() + 8) as u32).to_be_bytes()[..], kind, body].concat()
}

fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bmff_box(kind, &[&[version, 0, 0, 0][..], body].concat())
}

fn to_rational(x: f64) -> Rational {
    let denom = 10_000u32;
    Rational { num: (x * f64::from(denom)).round() as u32, denom }
}

fn dms(deg: f64) -> [f64; 3] {
    let d = deg.trunc();
    let m = ((deg - d) * 60.0).trunc();
    let s = (deg - d - m / 60.0) * 3600.0;
    [d, m, s]
}

/// A synthetic scene: a smooth gradient under a few dozen rectangles placed by `seed`.
pub fn scene(seed: u64, width: u32, height: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let rects: Vec<(u32, u32, u32, u32, [u8; 3])> = (0..24)
        .map(|_| {
            let x = (next() % u64::from(width)) as u32;
            let y = (next() % u64::from(height)) as u32;
            let w = 1 + (next() % u64::from(width / 3)) as u32;
            let h = 1 + (next() % u64::from(height / 3)) as u32;
            let c = next().to_le_bytes();
            (x, y, w, h, [c[0], c[1], c[2]])
        })
        .collect();
    let tilt = (next() % 4) as u32;
    RgbImage::from_fn(width, height, |x, y| {
        let mut px = match tilt {
            0 => [(x * 255 / width) as u8, (y * 255 / height) as u8, 96],
            1 => [(y * 255 / height) as u8, 128, (x * 255 / width) as u8],
            2 => [200, (x * 255 / width) as u8, (y * 255 / height) as u8],
            _ => [((x + y) * 127 / (width + height)) as u8, 60, 180],
        };
        for (rx, ry, rw, rh, c) in &rects {
            if x >= *rx && x < rx + rw && y >= *ry && y < ry + rh {
                px = *c;
            }
        }
        image::Rgb(px)
    })
}

/// Encodes an image as baseline JPEG.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("JPEG encoder");
    out
}

/// Inserts an EXIF APP1 segment right after SOI.
pub fn insert_jpeg_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let len = u16::try_from(2 + 6 + tiff.len()).expect("EXIF fits in one APP1 segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// What a replaying worker does: decode, scale by `scale`, re-encode at `quality`, dropping all
/// metadata.
pub fn reencode_jpeg(jpeg: &[u8], quality: u8, scale: f64) -> Vec<u8> {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("decodable JPEG").to_rgb8();
    let (w, h) = ((f64::from(img.width()) * scale) as u32, (f64::from(img.height()) * scale) as u32);
    let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
    encode_jpeg(&small, quality)
}

/// A decompression bomb: a flat grey baseline JPEG of `width` x `height` (4:2:0 colour), every
/// 8x8 block coded in 2 bits (one-symbol Huffman tables: DC difference 0, end of block), so 120
/// megapixels take about 700 KB and decode to 360 MB of RGB.
pub fn flat_jpeg(width: u16, height: u16) -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let mut out = vec![0xff, marker];
        out.extend_from_slice(&u16::try_from(body.len() + 2).expect("short segment").to_be_bytes());
        out.extend_from_slice(body);
        out
    };
    let mut out = vec![0xff, 0xd8];
    // Quantisation table 0: all ones.
    out.extend(segment(0xdb, &[[0u8].as_slice(), &[1u8; 64]].concat()));
    // Frame: 8 bits, three components, luma 2x2, chroma 1x1, all with table 0.
    let mut sof = vec![8];
    sof.extend_from_slice(&height.to_be_bytes());
    sof.extend_from_slice(&width.to_be_bytes());
    sof.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    out.extend(segment(0xc0, &sof));
    // One code of length 1 in each table: DC category 0, AC end of block.
    for class_and_id in [0x00, 0x10] {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        out.extend(segment(0xc4, &[[class_and_id].as_slice(), &counts, &[0]].concat()));
    }
    out.extend(segment(0xda, &[3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]));
    let mcus = u64::from(width).div_ceil(16) * u64::from(height).div_ceil(16);
    // Six blocks an MCU, two zero bits each; the last byte padded with ones.
    let bits = mcus * 6 * 2;
    out.resize(out.len() + (bits / 8) as usize, 0);
    if bits % 8 != 0 {
        out.push(0xff >> (bits % 8));
    }
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

/// A decompression bomb: a black RGBA PNG of `width` x `height`, 120 megapixels in under 500 KB
/// that decode to 480 MB.
pub fn flat_png(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write as _;
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; 1 + 4 * width as usize];
    for _ in 0..height {
        z.write_all(&row).expect("in memory");
    }
    let idat = z.finish().expect("in memory");
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &idat));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// `png` with a `tEXt` chunk after its header: another file of the same image.
pub fn png_with_text(png: &[u8], keyword: &str, text: &str) -> Vec<u8> {
    // The signature and IHDR are the first 33 bytes.
    let mut out = png[..33].to_vec();
    out.extend(png_chunk(b"tEXt", &[keyword.as_bytes(), &[0], text.as_bytes()].concat()));
    out.extend_from_slice(&png[33..]);
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    out
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A GPX 1.1 document of one segment with `points` as `(position, time)`.
pub fn gpx(points: &[(GeoPoint, OffsetDateTime)], nonce: Option<&str>, creator: &str) -> Vec<u8> {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"{creator}\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n"
    );
    if let Some(n) = nonce {
        s.push_str(&format!(" <metadata><desc>{NONCE_PREFIX}{n}</desc></metadata>\n"));
    }
    s.push_str(" <trk><name>task</name><trkseg>\n");
    for (p, t) in points {
        let t = t.to_offset(UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).expect("format");
        s.push_str(&format!(
            "  <trkpt lat=\"{:.7}\" lon=\"{:.7}\"><ele>9.0</ele><time>{t}</time></trkpt>\n",
            p.lat, p.lon
        ));
    }
    s.push_str(" </trkseg></trk>\n</gpx>\n");
    s.into_bytes()
}

/// A walk: `n` points one every `step_s` seconds from `start`, moving `step_m` metres north per
/// point from `from`.
pub fn walk(
    from: GeoPoint,
    start: OffsetDateTime,
    n: usize,
    step_s: i64,
    step_m: f64,
) -> Vec<(GeoPoint, OffsetDateTime)> {
    (0..n)
        .map(|i| {
            let north = step_m * i as f64 / 111_195.0;
            (GeoPoint { lat: from.lat + north, lon: from.lon }, start + time::Duration::seconds(step_s * i as i64))
        })
        .collect()
}
