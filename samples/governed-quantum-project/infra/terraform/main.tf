# Governed quantum account: Braket jobs with audited, encrypted, private result storage.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.40" }
  }
}

provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      "qgov:tier" = "regulated-pilot"
      owner       = "quantum-platform"
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_cloudtrail" "quantum" {
  name                       = "qgov-quantum-trail"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.results.arn
  cloud_watch_logs_group_arn = "${aws_cloudwatch_log_group.trail.arn}:*"

  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type   = "AWS::S3::Object"
      values = ["${aws_s3_bucket.braket_results.arn}/"]
    }
  }
}

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/qgov/cloudtrail"
  retention_in_days = 400
  kms_key_id        = aws_kms_key.results.arn
}

resource "aws_cloudwatch_log_group" "braket_jobs" {
  name              = "/aws/braket/jobs"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.results.arn
}

# Shared network module, pinned to a reviewed commit.
module "lab_network" {
  source = "git::https://git.example.com/lab/tf-net.git?ref=3f9c2a7d41b08e6c95d1f4a2b7e0c8d9a6f5e4b3"
  cidr   = "10.40.0.0/16"
}
