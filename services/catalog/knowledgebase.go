package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// KnowledgeBase is an Amazon Bedrock Knowledge Base a chat turn may be grounded in.
type KnowledgeBase struct {
	// ID is the knowledge base id (ten letters and digits), as Retrieve takes it.
	ID string
	// Name is the name to show people.
	Name string
	// Description says what the knowledge base holds.
	Description string
	// ModelID is the catalog's Bedrock model that answers questions grounded in it.
	ModelID string
	// Region is the AWS region the knowledge base lives in.
	Region string
	// AccountID is the AWS account (12 digits) that owns it.
	AccountID string
}

// ARN returns the knowledge base's ARN, what IAM grants bedrock:Retrieve on.
func (k KnowledgeBase) ARN(partition string) string {
	return fmt.Sprintf("arn:%s:bedrock:%s:%s:knowledge-base/%s", partition, k.Region, k.AccountID, k.ID)
}

// KnowledgeBase returns the knowledge base with the given id.
func (c *Catalog) KnowledgeBase(id string) (KnowledgeBase, bool) {
	i, ok := c.kbByID[id]
	if !ok {
		return KnowledgeBase{}, false
	}
	return c.kbs[i], true
}

// KnowledgeBases returns every knowledge base, sorted by name.
func (c *Catalog) KnowledgeBases() []KnowledgeBase { return slices.Clone(c.kbs) }

type fileKnowledgeBase struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	ModelID     string `yaml:"modelId"`
	Region      string `yaml:"region"`
	AccountID   string `yaml:"accountId"`
}

var (
	// knowledgeBaseID is Bedrock's knowledge base id pattern.
	knowledgeBaseID = regexp.MustCompile(`^[0-9a-zA-Z]{10}$`)
	accountID       = regexp.MustCompile(`^[0-9]{12}$`)
)

// knowledgeBases validates the catalog's knowledge bases against its models.
func (v *validator) knowledgeBases(c *Catalog, fkbs []fileKnowledgeBase) {
	c.kbByID = map[string]int{}
	for i, f := range fkbs {
		p := fmt.Sprintf("$.knowledgeBases[%d]", i)
		before := len(v.problems)
		k := KnowledgeBase{ID: f.ID, Name: f.Name, Description: strings.TrimSpace(f.Description),
			ModelID: f.ModelID, Region: f.Region, AccountID: f.AccountID}
		if !knowledgeBaseID.MatchString(k.ID) {
			v.add(p+".id", fmt.Sprintf("%q is not a knowledge base id (10 letters and digits)", k.ID))
		} else if _, dup := c.kbByID[k.ID]; dup {
			v.add(p+".id", fmt.Sprintf("duplicate knowledge base id %q", k.ID))
		}
		if k.Name == "" {
			v.add(p+".name", "name is required")
		}
		if m, ok := c.Lookup(k.ModelID); !ok || m.Provider != ProviderBedrock {
			v.add(p+".modelId", fmt.Sprintf("%q is not a Bedrock model in this catalog", k.ModelID))
		} else if !m.Capabilities.Streaming {
			v.add(p+".modelId", fmt.Sprintf("model %q does not stream; a knowledge base needs a model that does", k.ModelID))
		}
		if !region.MatchString(k.Region) {
			v.add(p+".region", fmt.Sprintf("%q is not an AWS region", k.Region))
		}
		if !accountID.MatchString(k.AccountID) {
			v.add(p+".accountId", fmt.Sprintf("%q is not an AWS account id (12 digits)", k.AccountID))
		}
		if len(v.problems) > before {
			continue
		}
		c.kbByID[k.ID] = len(c.kbs)
		c.kbs = append(c.kbs, k)
	}
	slices.SortStableFunc(c.kbs, func(a, b KnowledgeBase) int {
		if d := strings.Compare(a.Name, b.Name); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	for i, k := range c.kbs {
		c.kbByID[k.ID] = i
	}
}

// InAccount returns the knowledge bases this deployment can retrieve from: those in region
// and account (a Retrieve call reaches only the caller's own account and region). An empty
// account matches none: a deployment that does not know its account uses no knowledge base.
func (c *Catalog) InAccount(region, account string) []KnowledgeBase {
	var out []KnowledgeBase
	for _, k := range c.kbs {
		if account != "" && k.AccountID == account && k.Region == region {
			out = append(out, k)
		}
	}
	return out
}

// KnowledgeBaseModels maps every knowledge base id to the model that answers from it, the
// form policy.WithKnowledgeBases takes.
func (c *Catalog) KnowledgeBaseModels() map[string]string {
	out := make(map[string]string, len(c.kbs))
	for _, k := range c.kbs {
		out[k.ID] = k.ModelID
	}
	return out
}
