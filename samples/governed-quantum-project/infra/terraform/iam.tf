data "aws_iam_policy_document" "braket_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["braket.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "braket_job" {
  name                 = "qgov-braket-job"
  assume_role_policy   = data.aws_iam_policy_document.braket_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "braket_job" {
  statement {
    sid = "SubmitAndReadTasks"
    actions = [
      "braket:CreateQuantumTask", "braket:GetQuantumTask", "braket:CancelQuantumTask",
      "braket:GetDevice", "braket:SearchDevices"
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ResultsBucket"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.braket_results.arn, "${aws_s3_bucket.braket_results.arn}/*"]
  }
  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.braket_jobs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "braket_job" {
  name   = "braket-job-least-privilege"
  role   = aws_iam_role.braket_job.id
  policy = data.aws_iam_policy_document.braket_job.json
}

# CI deploys through GitHub OIDC, limited to the main branch of one repository.
data "aws_iam_policy_document" "github_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:example-org/governed-quantum-project:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "ci_deploy" {
  name               = "qgov-ci-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_trust.json
}

resource "aws_iam_role" "key_admin" {
  name               = "qgov-key-admin"
  assume_role_policy = data.aws_iam_policy_document.github_trust.json
}
