// Package stacks defines Portico's AWS infrastructure as CDK v2 constructs: for one
// environment, a regional stack (identity, data, services, API, web, operations) and an edge
// stack in us-east-1 (the CloudFront web ACL). New builds both from a config.Config.
package stacks
