# Quantum lab account: Amazon Braket jobs plus an Azure Quantum workspace for IonQ runs.
terraform {
  required_providers {
    aws     = { source = "hashicorp/aws", version = "~> 5.40" }
    azurerm = { source = "hashicorp/azurerm", version = "~> 3.100" }
    azapi   = { source = "azure/azapi", version = "~> 1.12" }
    ibm     = { source = "IBM-Cloud/ibm", version = "~> 1.63" }
  }
}

provider "aws" {
  region = "us-east-1"
}

provider "azurerm" {
  features {}
}

resource "aws_cloudwatch_log_group" "braket_jobs" {
  name              = "/aws/braket/jobs"
  retention_in_days = 14
}

# Shared network module, taken from whatever the default branch holds at init time.
module "lab_network" {
  source = "git::https://git.example.com/lab/tf-net.git"
  cidr   = "10.40.0.0/16"
}

# "Temporary" until the secrets manager is set up.
variable "results_db_password" {
  type    = string
  default = "Braket-Results-2026!"
}
