package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// ARNs returns the IAM resource ARNs a caller needs to be allowed to invoke the model in
// region for account:
//
//   - a foundation model: arn:aws:bedrock:<region>::foundation-model/<id>
//   - an inference profile: arn:aws:bedrock:<region>:<account>:inference-profile/<id>, plus
//     the foundation-model ARN in every region the profile routes to (Bedrock checks both)
//   - a SageMaker endpoint: arn:aws:sagemaker:<region>:<account>:endpoint/<name> (SageMaker
//     writes endpoint names in lower case in ARNs)
//
// partition is "aws" unless region is a GovCloud or China region.
func (m Model) ARNs(region, account string) []string {
	p := partition(region)
	switch m.Kind {
	case KindFoundationModel:
		return []string{fmt.Sprintf("arn:%s:bedrock:%s::foundation-model/%s", p, region, m.ID)}
	case KindInferenceProfile:
		out := []string{fmt.Sprintf("arn:%s:bedrock:%s:%s:inference-profile/%s", p, region, account, m.ID)}
		for _, r := range m.Regions {
			out = append(out, fmt.Sprintf("arn:%s:bedrock:%s::foundation-model/%s", partition(r), r, m.FoundationModel))
		}
		return out
	case KindEndpoint:
		return []string{fmt.Sprintf("arn:%s:sagemaker:%s:%s:endpoint/%s", p, region, account, strings.ToLower(m.ID))}
	default:
		return nil
	}
}

// IAMResources returns, sorted and without duplicates, the ARNs for bedrock:InvokeModel /
// bedrock:InvokeModelWithResponseStream (bedrock) and for sagemaker:InvokeEndpoint /
// sagemaker:InvokeEndpointWithResponseStream (sagemaker) covering every model in the
// catalog.
func (c *Catalog) IAMResources(region, account string) (bedrock, sagemaker []string) {
	for _, m := range c.models {
		if m.Provider == ProviderSageMaker {
			sagemaker = append(sagemaker, m.ARNs(region, account)...)
		} else {
			bedrock = append(bedrock, m.ARNs(region, account)...)
		}
	}
	slices.Sort(bedrock)
	slices.Sort(sagemaker)
	return slices.Compact(bedrock), slices.Compact(sagemaker)
}

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	default:
		return "aws"
	}
}
