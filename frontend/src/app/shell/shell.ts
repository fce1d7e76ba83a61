import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatDividerModule } from '@angular/material/divider';
import { MatMenuModule } from '@angular/material/menu';
import { MatToolbarModule } from '@angular/material/toolbar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { UndoToast } from '../conversations/undo-toast';
import { QuotaBanner } from '../alerts/quota-banner';
import { Icon } from '../core/icon';
import { SessionService } from '../core/session';
import { ThemeService } from '../core/theme';

/** The frame around every signed-in page: navigation, theme toggle and user menu. */
@Component({
  selector: 'app-shell',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatToolbarModule, MatButtonModule, MatMenuModule, MatDividerModule, MatTooltipModule, Icon, UndoToast, QuotaBanner],
  templateUrl: './shell.html',
  styleUrl: './shell.scss',
})
export class Shell {
  protected readonly session = inject(SessionService);
  protected readonly theme = inject(ThemeService);

  protected readonly lightLabel = $localize`:@@shell.useLight:Use light theme`;
  protected readonly darkLabel = $localize`:@@shell.useDark:Use dark theme`;

  protected initials(): string {
    const name = this.session.displayName();
    return name
      .split(/[\s._-]+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((p: string) => p[0]!.toUpperCase())
      .join('');
  }

  protected signOut(): void {
    void this.session.signOut();
  }
}
