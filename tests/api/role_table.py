"""The role × route table the role-matrix test checks, written out as data a reviewer reads — not derived
from the routes it checks (a route whose declared roles drift from this table fails the test, and a new route
fails until its line is added here). One line per operation: method, path, who may call it.

`public`: no key needed. `everyone`: every role's key. `readers`: every role but storefront (the back office).
Otherwise the roles by name (admin is always among them)."""

from __future__ import annotations

TABLE = """
GET    /healthz                                                public
GET    /metrics                                                admin
GET    /readyz                                                 public
GET    /v1/attribute-groups                                    readers
POST   /v1/attribute-groups                                    admin
GET    /v1/attribute-groups/{code:str}                         readers
PUT    /v1/attribute-groups/{code:str}                         admin
PATCH  /v1/attribute-groups/{code:str}                         admin
DELETE /v1/attribute-groups/{code:str}                         admin
GET    /v1/attributes                                          readers
POST   /v1/attributes                                          admin
GET    /v1/attributes/{code:str}                               readers
PUT    /v1/attributes/{code:str}                               admin
PATCH  /v1/attributes/{code:str}                               admin
DELETE /v1/attributes/{code:str}                               admin
GET    /v1/attributes/{code:str}/options                       readers
POST   /v1/attributes/{code:str}/options                       admin
PUT    /v1/attributes/{code:str}/options                       admin
GET    /v1/attributes/{code:str}/options/{option:str}          readers
PUT    /v1/attributes/{code:str}/options/{option:str}          admin
DELETE /v1/attributes/{code:str}/options/{option:str}          admin
GET    /v1/audit                                               admin
GET    /v1/categories                                          readers
POST   /v1/categories                                          admin
GET    /v1/categories/{code:str}                               readers
PUT    /v1/categories/{code:str}                               admin
PATCH  /v1/categories/{code:str}                               admin
DELETE /v1/categories/{code:str}                               admin
GET    /v1/categories/{code:str}/attributes                    readers
PUT    /v1/categories/{code:str}/attributes                    admin
POST   /v1/categories/{code:str}/move                          admin
GET    /v1/category-trees                                      readers
POST   /v1/category-trees                                      admin
GET    /v1/category-trees/{code:str}                           readers
PUT    /v1/category-trees/{code:str}                           admin
PATCH  /v1/category-trees/{code:str}                           admin
DELETE /v1/category-trees/{code:str}                           admin
GET    /v1/category-trees/{code:str}/tree                      readers
GET    /v1/completeness                                        readers
GET    /v1/events                                              everyone
GET    /v1/exports                                             readers
POST   /v1/imports                                             admin purchasing warehouse listing finance
GET    /v1/imports/{job_id:int}/errors                         admin purchasing warehouse listing finance
GET    /v1/jobs                                                readers
GET    /v1/jobs/{job_id:int}                                   readers
GET    /v1/products                                            readers
POST   /v1/products                                            admin purchasing listing
GET    /v1/products/{code:str}                                 readers
PUT    /v1/products/{code:str}                                 admin purchasing listing
PATCH  /v1/products/{code:str}                                 admin purchasing listing
DELETE /v1/products/{code:str}                                 admin purchasing listing
GET    /v1/products/{code:str}/completeness                    readers
GET    /v1/products/{code:str}/skus                            readers
POST   /v1/products/{code:str}/skus                            admin purchasing warehouse listing
GET    /v1/products/{code:str}/suppliers                       admin purchasing finance
POST   /v1/products/{code:str}/suppliers                       admin purchasing
GET    /v1/products/{code:str}/suppliers/{supplier:str}        admin purchasing finance
PUT    /v1/products/{code:str}/suppliers/{supplier:str}        admin purchasing
PATCH  /v1/products/{code:str}/suppliers/{supplier:str}        admin purchasing
DELETE /v1/products/{code:str}/suppliers/{supplier:str}        admin purchasing
POST   /v1/products/{code:str}/transitions                     admin purchasing warehouse listing marketing
GET    /v1/products/{code:str}/views/{stage:str}               readers
GET    /v1/promotions                                          admin purchasing listing marketing service finance
POST   /v1/promotions                                          admin marketing
GET    /v1/promotions/{code:str}                               admin purchasing listing marketing service finance
PUT    /v1/promotions/{code:str}                               admin marketing
PATCH  /v1/promotions/{code:str}                               admin marketing
DELETE /v1/promotions/{code:str}                               admin marketing
GET    /v1/reports/abc                                         admin purchasing marketing finance
GET    /v1/reports/assortment                                  admin purchasing marketing finance
GET    /v1/reports/inventory-valuation                         admin purchasing finance
GET    /v1/reports/margins                                     admin purchasing finance
GET    /v1/reports/payables                                    admin purchasing finance
GET    /v1/reports/promotion-roi                               admin purchasing marketing finance
GET    /v1/reports/purchasing-scorecard                        admin purchasing finance
GET    /v1/reports/receivables                                 admin purchasing finance
GET    /v1/reports/returns                                     admin purchasing warehouse marketing service finance
GET    /v1/return-reasons                                      readers
POST   /v1/return-reasons                                      admin
GET    /v1/return-reasons/{code:str}                           readers
PUT    /v1/return-reasons/{code:str}                           admin
PATCH  /v1/return-reasons/{code:str}                           admin
DELETE /v1/return-reasons/{code:str}                           admin
GET    /v1/roles                                               readers
POST   /v1/roles                                               admin
GET    /v1/roles/{code:str}                                    readers
PUT    /v1/roles/{code:str}                                    admin
PATCH  /v1/roles/{code:str}                                    admin
DELETE /v1/roles/{code:str}                                    admin
GET    /v1/sales                                               admin purchasing marketing finance
POST   /v1/sales                                               admin marketing finance
DELETE /v1/sales                                               admin finance
GET    /v1/series                                              readers
POST   /v1/series                                              admin
GET    /v1/series/{code:str}                                   readers
PUT    /v1/series/{code:str}                                   admin
PATCH  /v1/series/{code:str}                                   admin
DELETE /v1/series/{code:str}                                   admin
GET    /v1/service/lookup                                      admin service
GET    /v1/skus/{sku:str}                                      readers
PUT    /v1/skus/{sku:str}                                      admin purchasing warehouse listing
PATCH  /v1/skus/{sku:str}                                      admin purchasing warehouse listing
DELETE /v1/skus/{sku:str}                                      admin purchasing warehouse listing
GET    /v1/skus/{sku:str}/prices                               readers
POST   /v1/skus/{sku:str}/prices                               admin purchasing listing finance
GET    /v1/skus/{sku:str}/prices/corrections                   admin purchasing finance
POST   /v1/skus/{sku:str}/prices/corrections                   admin finance
GET    /v1/stages                                              readers
GET    /v1/stages/{stage:str}/needs                            readers
PUT    /v1/stages/{stage:str}/needs                            admin
GET    /v1/stock                                               readers
GET    /v1/stock/movements                                     admin purchasing warehouse finance
POST   /v1/stock/movements                                     admin purchasing warehouse
GET    /v1/storefront/categories                               everyone
GET    /v1/storefront/facets                                   everyone
GET    /v1/storefront/products                                 everyone
GET    /v1/storefront/products/{code:str}                      everyone
GET    /v1/storefront/search                                   everyone
GET    /v1/suppliers                                           admin purchasing finance
POST   /v1/suppliers                                           admin purchasing
GET    /v1/suppliers/{code:str}                                admin purchasing finance
PUT    /v1/suppliers/{code:str}                                admin purchasing
PATCH  /v1/suppliers/{code:str}                                admin purchasing
DELETE /v1/suppliers/{code:str}                                admin purchasing
GET    /v1/warehouses                                          readers
POST   /v1/warehouses                                          admin warehouse
GET    /v1/warehouses/{code:str}                               readers
PUT    /v1/warehouses/{code:str}                               admin warehouse
PATCH  /v1/warehouses/{code:str}                               admin warehouse
DELETE /v1/warehouses/{code:str}                               admin warehouse
GET    /v1/warehouses/{code:str}/locations                     readers
POST   /v1/warehouses/{code:str}/locations                     admin warehouse
GET    /v1/warehouses/{code:str}/locations/{location:str}      readers
PUT    /v1/warehouses/{code:str}/locations/{location:str}      admin warehouse
PATCH  /v1/warehouses/{code:str}/locations/{location:str}      admin warehouse
DELETE /v1/warehouses/{code:str}/locations/{location:str}      admin warehouse
POST   /v1/warehouses/{code:str}/pick-lists                    admin warehouse
"""
