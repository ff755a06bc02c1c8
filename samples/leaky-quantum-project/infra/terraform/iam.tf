data "aws_iam_policy_document" "braket_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["braket.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "braket_job" {
  name               = "qlab-braket-job"
  assume_role_policy = data.aws_iam_policy_document.braket_trust.json
}

resource "aws_iam_role_policy" "braket_job" {
  name   = "braket-everything"
  role   = aws_iam_role.braket_job.id
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "braket:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
  ]
}
EOF
}

# "Temporary" role for the partner analytics team.
resource "aws_iam_role" "shared_analysis" {
  name = "qlab-shared-analysis"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_user" "ci" {
  name = "qlab-github-ci"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

resource "aws_iam_user_policy_attachment" "ci_admin" {
  user       = aws_iam_user.ci.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
