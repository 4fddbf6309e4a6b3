"""Code generated from Pinterest's OpenAPI description 5.23.0; do not edit."""
