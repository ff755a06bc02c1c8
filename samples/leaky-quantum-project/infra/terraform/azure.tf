resource "azurerm_storage_account" "quantum" {
  name                            = "qlabquantumjobs"
  resource_group_name             = "qlab-rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_0"
  allow_nested_items_to_be_public = true

  tags = {
    "workload-tier" = "production-critical"
  }
}

resource "azapi_resource" "quantum_workspace" {
  type      = "Microsoft.Quantum/workspaces@2023-11-13-preview"
  name      = "qlab-workspace"
  location  = "westeurope"
  parent_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/qlab-rg"

  identity {
    type = "SystemAssigned"
  }

  body = jsonencode({
    properties = {
      storageAccount = azurerm_storage_account.quantum.id
      apiKeyEnabled  = true
      providers = [
        { providerId = "ionq", providerSku = "pay-as-you-go-cred" }
      ]
    }
  })
}

resource "azurerm_log_analytics_workspace" "ops" {
  name                = "qlab-ops"
  location            = "westeurope"
  resource_group_name = "qlab-rg"
  sku                 = "PerGB2018"
}
