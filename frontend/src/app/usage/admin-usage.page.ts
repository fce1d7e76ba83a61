import { Component } from '@angular/core';

@Component({ selector: 'app-x', template: '<p>todo</p>' })
export class AdminUsagePage {}
