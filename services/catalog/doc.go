// Package catalog holds the models and endpoints Portico can run, what they can do, and
// what they are estimated to cost.
//
// The catalog is a YAML file. An embedded default (catalog.yaml, the shared dev model list)
// is used unless PORTICO_CATALOG_FILE names another file; see [Load]. Every price in it is an
// estimate taken from the AWS on-demand price list on the date the price table names; a cost
// computed here is an estimate, never a bill.
//
// Each SageMaker endpoint says where its container reports token usage ([Usage]: a format,
// openai, tgi-details or none, and the response content types it is read from); Portico reads
// usage there and nowhere else, and checks every count against the endpoint's ContextWindow
// and the request's max output.
//
// Each Bedrock model says where it runs: a foundation model on demand in its
// OnDemandRegions, elsewhere through one of its cross-region inference Profiles (us., eu.,
// apac., global. ids, with the regions each is called from and routes to); an
// inference-profile entry from its Regions. [Model.Route] picks the id to call from a
// region, [Catalog.InRegion] sets it for every model ([Model.InvokeID]), and [Model.ARNs]
// lists what IAM must allow for that call; a model that cannot run from a region is an
// error, which the CDK app turns into a refused synthesis.
//
// Each Bedrock model also says whether it takes Converse document blocks (Capabilities:
// documents, maxDocuments, maxDocumentBytes, within Converse's 5 documents of 4.5 MB) and
// whether it cites them (citations). The catalog's knowledgeBases list the Bedrock Knowledge
// Bases a chat turn may be grounded in ([KnowledgeBase]: id, name, description, the catalog
// model that answers, region and account); [Catalog.InAccount] keeps those a deployment can
// reach (Retrieve calls only its own account and region), and [KnowledgeBase.ARN] is what IAM
// grants bedrock:Retrieve on.
//
// Amounts of money are exact: prices and costs are integer billionths (nanos) of a US dollar,
// so that sums over a ledger never drift. [Catalog.Cost] computes the cost of a request,
// and the Money helpers ([USD], [Nanos], [AddMoney], [FormatMoney]) convert and print
// amounts as portico.type.v1.Money.
package catalog
