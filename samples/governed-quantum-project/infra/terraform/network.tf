resource "aws_security_group" "jupyter" {
  name        = "qgov-jupyter"
  description = "JupyterLab reachable from the corporate VPN only"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.20.0.0/16"]
  }
}

resource "aws_sagemaker_notebook_instance" "braket" {
  name                   = "amazon-braket-qgov"
  role_arn               = aws_iam_role.braket_job.arn
  instance_type          = "ml.t3.medium"
  direct_internet_access = "Disabled"
  root_access            = "Disabled"
  kms_key_id             = aws_kms_key.results.arn
}
