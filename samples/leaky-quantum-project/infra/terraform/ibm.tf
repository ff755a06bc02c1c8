resource "ibm_resource_instance" "cos" {
  name     = "qlab-cos"
  service  = "cloud-object-storage"
  plan     = "standard"
  location = "global"
  tags     = ["qgov:tier:regulated-pilot"]
}

resource "ibm_cos_bucket" "results" {
  bucket_name          = "qlab-runtime-results"
  resource_instance_id = ibm_resource_instance.cos.id
  region_location      = "us-south"
  storage_class        = "standard"
}

resource "ibm_iam_service_id" "runner" {
  name = "qlab-runtime-runner"
}

resource "ibm_iam_service_api_key" "runner" {
  name           = "qlab-runner-key"
  iam_service_id = ibm_iam_service_id.runner.iam_id
}
