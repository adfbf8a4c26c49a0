//! Great-circle distances.

use serde::{Deserialize, Serialize};

/// A WGS 84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

/// Mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Haversine distance in metres; within 0.5% of the ellipsoidal distance, far below GPS error
/// at the scale of a task area.
pub fn haversine_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        let jakarta = GeoPoint { lat: -6.2088, lon: 106.8456 };
        let bandung = GeoPoint { lat: -6.9175, lon: 107.6191 };
        let d = haversine_m(jakarta, bandung);
        assert!((d - 116_000.0).abs() < 2_000.0, "{d}");
        // One thousandth of a degree of latitude is about 111 m.
        let north = GeoPoint { lat: jakarta.lat + 0.001, lon: jakarta.lon };
        assert!((haversine_m(jakarta, north) - 111.2).abs() < 0.5);
        assert_eq!(haversine_m(jakarta, jakarta), 0.0);
    }
}
