//! The enrolment QR code, drawn as an inline SVG so the page makes no request anywhere and
//! the secret never leaves it.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG of `text` as a QR code, or `None` if it is too long for one.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML, the element alone (no XML declaration).
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_without_external_references() {
        let svg = super::svg("otpauth://totp/x:alice?secret=GEZDGNBV&issuer=x").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("href"));
    }
}
