# Results of Braket quantum tasks land here (Braket requires the amazon-braket- prefix).
resource "aws_s3_bucket" "braket_results" {
  bucket = "amazon-braket-qlab-results"

  tags = {
    "qgov:tier" = "regulated-pilot"
    team        = "quantum-chem"
  }
}

resource "aws_s3_bucket_acl" "braket_results" {
  bucket = aws_s3_bucket.braket_results.id
  acl    = "public-read"
}

resource "aws_s3_bucket_public_access_block" "braket_results" {
  bucket                  = aws_s3_bucket.braket_results.id
  block_public_acls       = false
  block_public_policy     = true
  ignore_public_acls      = false
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "braket_results" {
  bucket = aws_s3_bucket.braket_results.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Molecule geometries and Hamiltonians uploaded before each run.
resource "aws_s3_bucket" "job_inputs" {
  bucket = "qlab-job-inputs"

  versioning {
    enabled = false
  }
}

resource "aws_s3_bucket_policy" "job_inputs" {
  bucket = aws_s3_bucket.job_inputs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "PartnersCanRead"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject"]
        Resource  = "${aws_s3_bucket.job_inputs.arn}/*"
      }
    ]
  })
}

resource "aws_kms_key" "results" {
  description         = "Braket results"
  enable_key_rotation = false
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Root"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "QuantumOps"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:role/quantum-ops" }
        Action    = "kms:*"
        Resource  = "*"
      }
    ]
  })
}
