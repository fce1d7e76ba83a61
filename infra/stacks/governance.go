package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// EnvEventBus names the EventBridge bus the services put alert events on (docs/contracts.md).
const EnvEventBus = "PORTICO_EVENT_BUS"

// The alert events the services emit (services: the governance alerts).
const (
	AlertSource     = "portico.governance"
	AlertDetailType = "Portico Quota Threshold Crossed"
)

// governance holds the event bus, the alert rule and the optional e-mail topic.
type governance struct {
	bus   awsevents.EventBus
	rule  awsevents.Rule
	topic awssns.Topic // nil without alerts.emails
}

// eventBusARN is the exact ARN of the governance bus.
func (e *env) eventBusARN() string {
	return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("governance"))
}

// newGovernance creates the governance event bus and the rule matching the quota and budget
// alerts. With alerts.emails it also creates an SNS topic encrypted with the environment's
// key, subscribes the addresses and makes it the rule's target; the key policy lets
// EventBridge use the key on this account's behalf (as it lets CloudWatch alarms).
func (e *env) newGovernance(scope constructs.Construct) *governance {
	c := constructs.NewConstruct(scope, jsii.String("Governance"))
	cfg := e.cfg
	g := &governance{}
	g.bus = awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(cfg.Name("governance")),
		Description:  jsii.String("Portico " + cfg.Env + ": quota and budget alerts (" + AlertSource + ")"),
	})
	g.rule = awsevents.NewRule(c, jsii.String("QuotaAlerts"), &awsevents.RuleProps{
		RuleName:    jsii.String(cfg.Name("quota-alerts")),
		Description: jsii.String("Portico quota and budget thresholds crossed (80 % and 100 %)"),
		EventBus:    g.bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(AlertSource),
			DetailType: jsii.Strings(AlertDetailType),
		},
	})
	if len(cfg.Alerts.Emails) == 0 {
		return g
	}
	g.topic = awssns.NewTopic(c, jsii.String("AlertTopic"), &awssns.TopicProps{
		TopicName:  jsii.String(cfg.Name("quota-alerts")),
		MasterKey:  e.key,
		EnforceSSL: jsii.Bool(true),
	})
	for _, m := range cfg.Alerts.Emails {
		g.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(m), nil))
	}
	g.rule.AddTarget(awseventstargets.NewSnsTopic(g.topic, nil))
	// EventBridge publishes to the encrypted topic with the key; only for rules of this
	// account, and only for SNS's use of the key.
	e.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgeAlerts"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account},
		},
	}), jsii.Bool(false))
	return g
}
