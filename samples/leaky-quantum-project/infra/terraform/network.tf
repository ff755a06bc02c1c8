resource "aws_security_group" "jupyter" {
  name        = "qlab-jupyter"
  description = "JupyterLab for the quantum team"

  ingress {
    from_port   = 8888
    to_port     = 8888
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port        = 22
    to_port          = 22
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
  }
}

# Braket notebook instances are SageMaker notebooks named amazon-braket-*.
resource "aws_sagemaker_notebook_instance" "braket" {
  name          = "amazon-braket-qlab"
  role_arn      = aws_iam_role.braket_job.arn
  instance_type = "ml.t3.medium"
}
